/**
 * The `data:` payloads of an SSE body, in order (multi-line data joined by `\n`), so a test
 * can assert on a raw stream without a parser of its own.
 *
 * @example
 * parseSseData('data: {"a":1}\n\ndata: [DONE]\n\n'); // ['{"a":1}', "[DONE]"]
 */
export function parseSseData(text: string): string[] {
  const payloads: string[] = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    const dataLines = block
      .split(/\r?\n/)
      .filter((line) => line.startsWith("data:"))
      .map((line) => line.slice(line.startsWith("data: ") ? 6 : 5));
    if (dataLines.length > 0) payloads.push(dataLines.join("\n"));
  }
  return payloads;
}
