// Regenerates packages/kube-adapter/src/validation/crd-validators.generated.ts from manifests/crds.yaml
// (ajv standalone validators, so that lbkitd never compiles a schema at start). Run after changing the CRDs:
//   npm run gen:crd-validators
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { crdValidatorsModule } from '../packages/kube-adapter/dist/validation/crd-codegen.js';

const pkg = fileURLToPath(new URL('../packages/kube-adapter/', import.meta.url));
const out = `${pkg}src/validation/crd-validators.generated.ts`;
writeFileSync(out, crdValidatorsModule(readFileSync(`${pkg}manifests/crds.yaml`, 'utf8')));
console.log(`wrote ${out}`);
