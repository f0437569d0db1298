/**
 * Mocha's globals, typed, for *.browser.test.ts files (@web/test-runner provides them at run
 * time), imported explicitly so each file says where its globals come from.
 */
type Fn = (this: { timeout(ms: number): void }) => void | Promise<void>;
type Suite = (name: string, fn: (this: { timeout(ms: number): void }) => void) => void;
type Test = (name: string, fn: Fn) => void;
type Hook = (fn: Fn) => void;

const g = globalThis as unknown as { describe: Suite; it: Test; beforeEach: Hook; afterEach: Hook };

export const describe: Suite = (name, fn) => g.describe(name, fn);
export const it: Test = (name, fn) => g.it(name, fn);
export const beforeEach: Hook = (fn) => g.beforeEach(fn);
export const afterEach: Hook = (fn) => g.afterEach(fn);
