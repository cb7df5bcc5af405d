// current-task.test.ts: runningTask sets the thread's task for the inspector
// expression and clears it after (also when the task throws); describeTask
// renders idle, running and unanswered threads.

import t from 'tap';
import { CURRENT_TASK_EXPRESSION, describeTask, runningTask } from './current-task.js';

const evaluate = (): string => String((0, eval)(CURRENT_TASK_EXPRESSION));

t.test('runningTask sets and clears the task', async (t) => {
  t.equal(evaluate(), 'null');
  const inside = runningTask('query range', 'team-a', 'sum(rate(x[5m]))', evaluate);
  const task = JSON.parse(inside) as { what: string; tenant: string; detail: string; startedMs: number };
  t.same({ what: task.what, tenant: task.tenant, detail: task.detail }, { what: 'query range', tenant: 'team-a', detail: 'sum(rate(x[5m]))' });
  t.ok(Math.abs(task.startedMs - Date.now()) < 5_000);
  t.equal(evaluate(), 'null', 'cleared after');
  t.throws(() => runningTask('push', 't', '', () => {
    throw new Error('boom');
  }), /boom/);
  t.equal(evaluate(), 'null', 'cleared after a throw');
  const long = runningTask('query instant', 't', 'x'.repeat(500), evaluate);
  t.equal((JSON.parse(long) as { detail: string }).detail, `${'x'.repeat(200)}...`, 'long texts are cut');
});

t.test('describeTask', async (t) => {
  t.equal(describeTask('null', 0), 'idle');
  t.equal(describeTask(undefined, 0), 'busy (did not answer the inspector)');
  t.equal(describeTask(JSON.stringify({ what: 'push', tenant: 'a"b', detail: '', startedMs: 1000 }), 3500), 'running push for tenant "a\\"b" for 2.500s');
  t.equal(describeTask(JSON.stringify({ what: 'query range', tenant: 'a', detail: 'up', startedMs: 0 }), 1), 'running query range for tenant "a" for 0.001s: up');
});
