/**
 * The property names the client build may shorten: private and protected members of the classes
 * in src/client/ (tab-only code: nothing under broker/, log/, group/, sync/ or protocol/ imports
 * it, so no object with these members reaches the broker or IndexedDB). Minifiers keep
 * TypeScript's `private` names as they are (only `#private` fields are renamed), so an app's
 * bundle would carry every long internal name; rollup.config.mjs renames these in dist/.
 *
 * A name is left alone when it is also used anywhere in src/ or sw/ as something public: a
 * member of an interface or type literal, a non-private class member, an object-literal key, a
 * string (`obj['name']`, `'name' in obj`), a property read or written outside src/client (the
 * broker side's code), a member of a class that extends another (its base,
 * perhaps the platform's, may read it), or a member of the platform's own types (lib.*.d.ts:
 * the renaming applies to every `.name` in a file, `arr.map` as much as `this.map`). So a
 * public property, option, event payload field,
 * error field or protocol field is never renamed, whatever a private member elsewhere is called.
 *
 *   node scripts/internal-names.mjs     # prints the list
 */
import ts from 'typescript';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function files(dir) {
  const out = [];
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const nameOf = (n) => (n && (ts.isIdentifier(n) || ts.isStringLiteral(n) || ts.isPrivateIdentifier(n)) ? n.text : undefined);

/** The internal names, sorted. */
export function internalNames() {
  const candidates = new Set();
  const publicNames = new Set();
  const clientDir = join(ROOT, 'src', 'client') + '/';
  for (const file of [...files(join(ROOT, 'src')), ...files(join(ROOT, 'sw'))]) {
    const inClient = file.startsWith(clientDir);
    const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
    const visit = (n) => {
      const isMember = ts.isPropertyDeclaration(n) || ts.isMethodDeclaration(n) || ts.isGetAccessor(n) || ts.isSetAccessor(n);
      const isCtorParam = ts.isParameter(n) && ts.isConstructorDeclaration(n.parent) && ts.getCombinedModifierFlags(n) & (ts.ModifierFlags.ParameterPropertyModifier);
      if ((isMember && ts.isClassLike(n.parent)) || isCtorParam) {
        const name = nameOf(n.name);
        const flags = ts.getCombinedModifierFlags(n);
        // Members of a class that extends another are left alone (a base class may read them).
        const cls = isCtorParam ? n.parent.parent : n.parent;
        const internal = flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected) && !(flags & ts.ModifierFlags.Override)
          && ts.isIdentifier(n.name) && !cls.heritageClauses?.some((h) => h.token === ts.SyntaxKind.ExtendsKeyword);
        if (name !== undefined) (internal && inClient ? candidates : publicNames).add(name);
        if (name !== undefined && internal && !inClient) publicNames.add(name);
      } else if (ts.isPropertySignature(n) || ts.isMethodSignature(n) || ts.isPropertyAssignment(n) || ts.isShorthandPropertyAssignment(n)
        || (ts.isMethodDeclaration(n) && ts.isObjectLiteralExpression(n.parent)) || ts.isGetAccessor(n) || ts.isSetAccessor(n) || ts.isEnumMember(n)) {
        const name = nameOf(n.name);
        if (name !== undefined) publicNames.add(name);
      } else if (ts.isBindingElement(n) && n.propertyName) {
        const name = nameOf(n.propertyName);
        if (name !== undefined) publicNames.add(name);
      } else if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) {
        publicNames.add(n.text);
      } else if (!inClient && ts.isPropertyAccessExpression(n) && ts.isIdentifier(n.name)) {
        // A name the broker side reads or writes on any object is left alone too.
        publicNames.add(n.name.text);
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  // The platform's member names (DOM, ES): `arr.map` or `port.close` must keep their names, and
  // a renamed name is renamed at every property access in the file, whatever the object.
  const lib = dirname(createRequire(import.meta.url).resolve('typescript/lib/lib.d.ts'));
  for (const f of readdirSync(lib)) {
    if (!/^lib\..*\.d\.ts$/.test(f)) continue;
    const sf = ts.createSourceFile(f, readFileSync(join(lib, f), 'utf8'), ts.ScriptTarget.ES2022, false);
    const visit = (n) => {
      if ((ts.isPropertySignature(n) || ts.isMethodSignature(n) || ts.isPropertyDeclaration(n) || ts.isMethodDeclaration(n) || ts.isGetAccessor(n) || ts.isSetAccessor(n)) && nameOf(n.name)) publicNames.add(nameOf(n.name));
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  return [...candidates].filter((n) => !publicNames.has(n)).sort();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) console.log(internalNames().join('\n'));
