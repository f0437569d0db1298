// custom-elements.json for lanes/components, written by @custom-elements-manifest/analyzer from
// the elements' JSDoc (@element, @attr, @fires, @csspart, @cssprop). `npm run build` rewrites
// it; test/components/manifest.test.ts fails when the committed file is stale.
export default {
  globs: ['src/components/*.ts'],
  exclude: ['src/components/index.ts'],
  litelement: true,
  // package.json names the manifest already; the analyzer must not rewrite it (the test writes elsewhere).
  packagejson: false,
  plugins: [
    {
      // Lit's reactive state (`state: true`) and private fields are not attributes or public API.
      name: 'lanes-drop-private',
      packageLinkPhase({ customElementsManifest }) {
        for (const mod of customElementsManifest.modules) {
          for (const d of mod.declarations ?? []) {
            const hidden = new Set((d.members ?? []).filter((m) => m.privacy === 'private' || m.privacy === 'protected').map((m) => m.name));
            if (d.attributes) d.attributes = d.attributes.filter((a) => !hidden.has(a.fieldName ?? a.name));
            if (d.members) d.members = d.members.filter((m) => m.privacy !== 'private' && m.privacy !== 'protected');
          }
        }
      },
    },
  ],
};
