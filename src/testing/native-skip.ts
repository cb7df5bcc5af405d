// native-skip.ts decides what a test that needs the native binding does when
// the binding lacks exports (not built, or built from older sources).

import { inCi } from '../../test/peer/lib/binary.js';
import { loadNative, missingNativeExports, type NativeBinding } from '../storage/native.js';

/**
 * nativeSkip is the tap `skip` option of a test that needs the native binding: false when it is
 * complete, and false under CI whatever is missing (the build is part of the install, so the test
 * must run and fail); run by hand, the reason naming the missing exports. extra names optional
 * exports the test needs besides the required ones.
 */
export function nativeSkip(...extra: Array<keyof NativeBinding>): string | false {
  const missing = missingNativeExports();
  const b = loadNative();
  if (missing.length === 0) missing.push(...extra.filter((name) => typeof b[name] !== 'function'));
  if (missing.length === 0 || inCi()) return false;
  return `native binding is missing ${missing.join(', ')}`;
}
