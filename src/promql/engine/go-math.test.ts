import t from 'tap';
import { frexp, goExp2, goLog, goLog2 } from './go-math.js';

// Golden values printed by Go 1.26's math package on amd64 (float64 bits in
// hex): input, Log, Log2, Log10; and input, Exp2. Besides the edge cases, the
// inputs are those where JavaScript's Math.log/log2/log10 or `2 ** x` round
// to another double than Go.
const LOG_CASES: ReadonlyArray<readonly [string, string, string, string]> = [
  ['3fe0000000000000', 'bfe62e42fefa39ef', 'bff0000000000000', 'bfd34413509f79ff'],
  ['3fe8000000000000', 'bfd269621134db92', 'bfda8ff971810a5d', 'bfbffbfc2bbc7802'],
  ['3fed5818dcfba486', 'bfb62e42fefa39f9', 'bfc0000000000007', 'bfa34413509f7a07'],
  ['3ff0000000000000', '0', '0', '0'],
  ['4000000000000000', '3fe62e42fefa39ef', '3ff0000000000000', '3fd34413509f79ff'],
  ['4008000000000000', '3ff193ea7aad030a', '3ff95c01a39fbd69', '3fde8927964fd5fc'],
  ['4024000000000000', '40026bb1bbb55516', '400a934f0979a371', '3ff0000000000000'],
  ['3f50624dd2f1a9fc', 'c01ba18a998fffa0', 'c023ee7b471b3a95', 'c008000000000000'],
  ['1a56e1fc2f8f359', 'c085963447f87fb5', 'c08f24a09f1a8b89', 'c072c00000000000'],
  ['1', 'c08628b76e3a7b61', 'c090c80000000000', 'c0733f424bcb5221'],
  ['7e37e43c8800759c', '4085963447f87fb5', '408f24a09f1a8b89', '4072c00000000000'],
  ['3fe6a09e667f3bcc', 'bfd62e42fefa39f1', 'bfe0000000000001', 'bfc34413509f7a00'],
  ['3f66a09e667f3bcd', 'c01791272ee9dd8e', 'c021000000000000', 'c004785485a9719f'],
  ['40507252a42fa16c', '4010bee2a949fc3c', '401828ab15c8dbd0', '3ffd17152b026851'],
  ['3fb531cf38c022c1', 'c003ee742b4bbe48', 'c00cc148e6e0a668', 'bff14fef5f35cd89'],
  ['3f36cd339217df16', 'c01fdaa672e13a98', 'c026fa5631a4025f', 'c00bab0a0654ccb1'],
  ['40942d1bc9fad16a', '401ca74eee6ebbe8', '4024ab4e74fa37fe', '4008e35e2bee0111'],
  ['4030e4bec09ac8b0', '40069d8e05c86410', '40105047ee6ef8cf', '3ff3a4be4e628c10'],
  ['40d7d78eb1f123c6', '402434b21ddba644', '402d269f5e4ceb33', '40118cf24b06848d'],
  ['40a46cada535862c', '401f799df59c8310', '4026b457918accb0', '400b56c1d98f60e7'],
  ['40462e1cd4a5fc02', '400e56b867091480', '4015e2812366400c', '3ffa5a166a1fe019'],
  ['3f375d93c989d2b3', 'c01fc1a1884beefc', 'c026e84a05fcc008', 'c00b954ec8fb427d'],
  ['40176516fcde5bc2', '3ffc4272f6eff670', '4004628d49b5c253', '3fe88bc33bc0d3ff'],
  ['400b30c913ce3164', '3ff39329e1e3de40', '3ffc3d94b4801918', '3fe100a432e29baf'],
  ['40f9308857d74b5c', '402716a0efd5d5ee', '4030a79e0932fb1a', '40140de8258b64a4'],
  ['3f7047e1521bd168', 'c0161c7290a3c170', 'c01fe64cb0555381', 'c003349a2cc5a13b'],
  ['414f21af6f66012e', '402e7185ed676fcc', '4035f5d6aea6feda', '401a715e426397a3'],
  ['40cf0d13f42db35f', '40235911134aeb5c', '402be9c3c7b7a3d4', '4010ce2dd7bd3379'],
  ['40c38298b598bc90', '40226b2401f74708', '402a928291fc3d6a', '400fff09cc286db5'],
  ['3fad278aae184c39', 'c006ecfce4498640', 'c01089947056edbe', 'bff3e9bcf2f9aca8'],
  ['415e0e1482e659c5', '402fc26531c842d4', '4036e8d729e9e088', '401b95f8bc27eaba'],
  ['3e74f06069647f68', 'c0305dd3886be470', 'c0379ca441959cd0', 'c01c6e7948f601e3'],
  ['4178f0feb4808fc5', '40311458494f0704', '4038a3f5d38876ee', '401dab8a7ed262c3'],
  ['40db27091edab394', '40247743f371f430', '402d86a989c961e5', '4011c6c4a46cd562'],
  ['3e99bc49c06a8ea9', 'c02d8c43df1df9c6', 'c0355076c18971e5', 'c019aa3cb97d891e'],
  ['40744465934b08c7', '401720597847c37c', '4020aea1220e9300', '40041659a8b0d12f'],
  ['3f7651e6cd639fe7', 'c014d96191604696', 'c01e1436997f13bd', 'c0021bfd86f27c80'],
  ['4010679caf5054b9', '3ff69495c00a2070', '400049cf855d3ccb', '3fe39cf3ca0f5a1c'],
  ['3f9c57d90d766640', 'c00cb25a435c2e98', 'c014b345f218ad77', 'bff8ecf5f5f3f772'],
  ['4120d8bafe48f259', '402a7155ac581ccc', '4033130af3282fda', '4016f7c4f60379cb'],
];
const EXP2_CASES: ReadonlyArray<readonly [string, string]> = [
  ['0', '3ff0000000000000'],
  ['3fe0000000000000', '3ff6a09e667f3bcc'],
  ['bfe0000000000000', '3fe6a09e667f3bcc'],
  ['3ff0000000000000', '4000000000000000'],
  ['bff0000000000000', '3fe0000000000000'],
  ['4024800000000000', '409306fe0a31b715'],
  ['c01f99999999999a', '3f7125fbee250663'],
  ['408ffc0000000000', '7fe6a09e667f3bcc'],
  ['c090b80000000000', '10'],
  ['402ebec6da92ffcc', '40e4b710cc3c0f9e'],
  ['c02d7b1d273dd6b2', '3f032751ebac33fb'],
  ['c034ca9cf52464ca', '3ea27d02c7c6ac0c'],
  ['c024ba7a8140c874', '3f48dc4a8606effe'],
  ['c00cc1292370c690', '3fb532098d62db5d'],
  ['3ff62ee1a7be8780', '4004ea2a0978183a'],
  ['c038a06473eac1d4', '3e64ba36d8bbd391'],
  ['4031dd5cb63429d4', '410d22a29173fe16'],
  ['c016dcf7c86ee7b0', '3f937be145ca1146'],
  ['4019ecd67990a180', '405655f7e290ae61'],
  ['c028fc1d2411a3c0', '3f26bf2cb591ebe4'],
  ['4011e03d73eae8a8', '4036256a80b4252a'],
  ['401b42fe6f5e9b90', '405c2833b38e6b12'],
  ['bff47ca6c16c8320', '3fda58d5e029e74a'],
  ['40304fff664e5bbc', '40f3de9e074e6a05'],
  ['c0122bc20db6d400', '3fa5f78ee9fec119'],
  ['4031a0c22daa77d0', '4108b9e1d551f661'],
  ['402113cb5696d24c', '40773df208065b03'],
  ['4022c0ba481e1f90', '4084c517153bc007'],
  ['403c5e2c6c170a9a', '41b4a5a689d3dbb4'],
  ['4039909f59669f04', '4187ab488f0acaa1'],
];

const scratch = new DataView(new ArrayBuffer(8));
function fromHex(h: string): number {
  scratch.setBigUint64(0, BigInt(`0x${h}`));
  return scratch.getFloat64(0);
}

t.test('log, log2 and log10 equal Go bit for bit', async (t) => {
  let differentInJs = 0;
  for (const [x, ln, log2, log10] of LOG_CASES) {
    const v = fromHex(x);
    t.equal(goLog(v), fromHex(ln), `Log(${v})`);
    t.equal(goLog2(v), fromHex(log2), `Log2(${v})`);
    t.equal(goLog(v) * Math.LOG10E, fromHex(log10), `Log10(${v})`);
    if (Math.log(v) !== fromHex(ln) || Math.log2(v) !== fromHex(log2) || Math.log10(v) !== fromHex(log10)) differentInJs++;
  }
  t.ok(differentInJs > 20, `${differentInJs} of the inputs round otherwise in JavaScript's Math`);
  t.equal(goLog(0), -Infinity);
  t.ok(Number.isNaN(goLog(-1)));
  t.equal(goLog(Infinity), Infinity);
});

t.test('exp2 equals Go bit for bit', async (t) => {
  for (const [x, e] of EXP2_CASES) t.equal(goExp2(fromHex(x)), fromHex(e), `Exp2(${fromHex(x)})`);
  t.equal(goExp2(1024), Infinity);
  t.equal(goExp2(-1100), 0);
  t.ok(Number.isNaN(goExp2(NaN)));
});

t.test('frexp', async (t) => {
  t.same(frexp(8), { frac: 0.5, exp: 4 });
  t.same(frexp(-3), { frac: -0.75, exp: 2 });
  t.same(frexp(5e-324), { frac: 0.5, exp: -1073 });
  t.same(frexp(0), { frac: 0, exp: 0 });
});
