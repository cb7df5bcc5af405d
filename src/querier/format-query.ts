// format-query.ts is /api/v1/format_query's work: parse the query and print
// it back prettified, as Prometheus's parser.ParseExpr + Expr.Pretty(0).

import { parseExpr } from '../promql/parser/parser.js';
import { prettify } from '../promql/parser/printer.js';

/** prettyQuery returns the prettified query; throws ParseError on invalid input. */
export function prettyQuery(query: string): string {
  return prettify(parseExpr(query));
}
