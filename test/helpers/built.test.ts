/**
 * The check the dist/-based tests start with: a missing bundle file is named, with the command
 * that builds it, instead of a page that never gets ready.
 */
import { describe, expect, it } from 'vitest';
import { assertBuilt } from './built.js';

describe('tests that run against the built bundle', () => {
  it('fail at once naming the missing dist/ file and `npm run build`', () => {
    expect(() => assertBuilt(['no-such-bundle.js'])).toThrow(/dist\/no-such-bundle\.js missing: this test runs against the built bundle; run `npm run build` first/);
  });
});
