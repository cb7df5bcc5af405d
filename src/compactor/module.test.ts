import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, renderConfigYaml } from '../config/config.js';
import { RuntimeConfigManager } from '../limits/runtime-config.js';
import { FilesystemBucket } from '../storage/bucket/filesystem.js';
import { newCompactorModule } from './module.js';

t.test('a Mimir config file configures the compactor (block ranges as a YAML list, retention per tenant)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'compactor-module-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'mimir.yaml'),
    `compactor:
  block_ranges: [1h0m0s, 4h0m0s]
  data_dir: ${join(dir, 'data')}
  deletion_delay: 2h
limits:
  compactor_blocks_retention_period: 30d
`,
  );
  writeFileSync(join(dir, 'runtime.yaml'), 'overrides:\n  short:\n    compactor_blocks_retention_period: 1d\n');
  const config = loadConfig([`-config.file=${join(dir, 'mimir.yaml')}`, `-runtime-config.file=${join(dir, 'runtime.yaml')}`]);
  t.equal(config.values.get('compactor.block-ranges'), '1h0m0s,4h0m0s');
  t.match(renderConfigYaml(config.values, 'diff'), /compactor:\n {2}block_ranges:\n {4}- 1h0m0s\n {4}- 4h0m0s\n/, '/config shows the list as Mimir does');
  const limits = new RuntimeConfigManager(config, { files: [join(dir, 'runtime.yaml')], reloadPeriodMs: 0 });
  limits.start();
  const m = newCompactorModule(config, new FilesystemBucket(join(dir, 'bucket')), limits);
  t.same(m.compactor.blockRanges, [3_600_000, 4 * 3_600_000]);
  const D = 24 * 3_600_000;
  t.equal(limits.values('short').get('compactor.blocks-retention-period'), D, 'the runtime override of one tenant');
  t.equal(limits.values('other').get('compactor.blocks-retention-period'), 30 * D, 'the limits default for the others');
  t.match(limits.render('values'), /compactor_blocks_retention_period: 1d/, '/runtime_config lists it');

  t.throws(() => newCompactorModule(loadConfig(['-compactor.block-ranges=2h,3h']), new FilesystemBucket(dir), limits), {
    message: 'compactor block range period 3h0m0s is not divisible by previous one 2h0m0s',
  });
});
