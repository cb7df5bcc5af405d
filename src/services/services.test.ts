import t from 'tap';
import { modulesForTarget, targetList } from './services.js';

t.test('modulesForTarget: all is the monolith without the alertmanager; lists add modules once', async (t) => {
  t.same(modulesForTarget('all'), ['server', 'distributor', 'ingester', 'querier', 'store-gateway']);
  t.same(modulesForTarget('all,alertmanager'), ['server', 'distributor', 'ingester', 'querier', 'store-gateway', 'alertmanager']);
  t.same(modulesForTarget('alertmanager'), ['server', 'alertmanager']);
  t.same(modulesForTarget('ruler, querier,ruler'), ['server', 'ruler', 'querier']);
  t.same(modulesForTarget('querier,all'), ['server', 'querier', 'distributor', 'ingester', 'store-gateway']);
  t.same(targetList(' all ,alertmanager,all'), ['all', 'alertmanager']);
});
