/** Deterministic image URLs that name the model, 1-based: `https://images.example/<model>/<n>.png`. */
export function fakeImageUrls(model: string, count: number): { url: string }[] {
  return Array.from({ length: count }, (_, position) => ({
    url: `https://images.example/${encodeURIComponent(model)}/${position + 1}.png`,
  }));
}
