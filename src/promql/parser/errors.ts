// errors.ts holds ParseError, worded and positioned as Prometheus's
// parser.ParseErr: "<line>:<col>: parse error: <message>", with the column
// counted in bytes from the start of the line, starting at 1.

/** ParseError is a failure to parse a query, with its byte position. */
export class ParseError extends Error {
  readonly pos: number;
  readonly query: string;
  readonly detail: string;

  constructor(query: string, pos: number, detail: string) {
    super(formatParseError(query, pos, detail));
    this.name = 'ParseError';
    this.query = query;
    this.pos = pos;
    this.detail = detail;
  }
}

/** formatParseError renders Prometheus's ParseErr text. */
export function formatParseError(query: string, pos: number, detail: string): string {
  if (query === '') return `unknown position: parse error: ${detail}`;
  const bytes = Buffer.from(query, 'utf8');
  if (pos < 0 || pos > bytes.length) return `invalid position: parse error: ${detail}`;
  let line = 1;
  let lastLineBreak = -1;
  for (let i = 0; i < pos; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      lastLineBreak = i;
    }
  }
  return `${line}:${pos - lastLineBreak}: parse error: ${detail}`;
}
