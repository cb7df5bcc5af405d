// if-match.test.ts checks GEM's write consistency rule in isolation: a
// missing If-Match is 428, a stale one 412, `*` or the current version
// (quoted, weak, in a list, or bare) passes.

import t from 'tap';
import { ApiError } from '../errors.js';
import { checkIfMatch } from './admin-api.js';

t.test('checkIfMatch', async (t) => {
  const status = (h: string | undefined, v: number): number => {
    try {
      checkIfMatch(h, v);
      return 0;
    } catch (err) {
      return (err as ApiError).status;
    }
  };
  t.equal(status(undefined, 3), 428);
  t.equal(status('', 3), 428);
  t.equal(status('  ', 3), 428);
  t.equal(status('"2"', 3), 412);
  t.equal(status('"30"', 3), 412);
  t.equal(status('"3"', 3), 0);
  t.equal(status('W/"3"', 3), 0);
  t.equal(status('"1", "3"', 3), 0);
  t.equal(status('3', 3), 0);
  t.equal(status('*', 3), 0);
});
