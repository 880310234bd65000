/** One server-sent event of the OpenAI chat wire: `data: <value as JSON>` and its blank line. */
export const frame = (value: unknown): string => `data: ${JSON.stringify(value)}\n\n`;

/** A streamed chat chunk carrying `content` as the text delta of choice 0. */
export const delta = (content: string): string =>
  frame({ id: "a", choices: [{ delta: { content } }] });

/** The end of a streamed chat answer: a `stop` finish reason, then `[DONE]`. */
export const finish = `${frame({ id: "a", choices: [{ delta: {}, finish_reason: "stop" }] })}data: [DONE]\n\n`;
