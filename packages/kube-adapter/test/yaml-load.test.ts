import { describe, expect, it } from 'vitest';
import { loadAllYaml, YamlSyntaxError } from '../src/yaml-load.js';

describe('loadAllYaml', () => {
  it('parses every document with the core schema: dates and 1.1 booleans stay strings', () => {
    const docs = loadAllYaml('a: 2024-01-01\nb: yes\nc: true\n---\n---\nkind: X\n');
    expect(docs).toEqual([{ a: '2024-01-01', b: 'yes', c: true }, null, { kind: 'X' }]);
  });

  it('names the document, line and column of a syntax error', () => {
    const text = 'kind: A\n---\nkind: B\n---\n# third\nkind: C\nspec: [1,\n';
    let err: unknown;
    try {
      loadAllYaml(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(YamlSyntaxError);
    expect((err as YamlSyntaxError).document).toBe(3);
    expect((err as YamlSyntaxError).message).toMatch(/at line \d+, column \d+/);
  });

  it('counts documents from 1 when the text starts with a marker, and rejects duplicate keys', () => {
    let err: unknown;
    try {
      loadAllYaml('---\nkind: A\nkind: B\n');
    } catch (e) {
      err = e;
    }
    expect((err as YamlSyntaxError).document).toBe(1);
    expect((err as YamlSyntaxError).message).toMatch(/duplicate/i);
  });

  it('reads a JSON text (kubectl get -o json) with JSON.parse, to the same objects as its YAML; text that only looks like JSON goes to the YAML parser', () => {
    const yaml = 'apiVersion: v1\nkind: List\nitems:\n- { kind: Service, metadata: { name: a, annotations: { x: "2024-01-01" } }, spec: { ports: [{ port: 80 }] } }\n';
    const fromYaml = loadAllYaml(yaml);
    const json = `\n  ${JSON.stringify(fromYaml[0], null, 1)}\n`;
    expect(loadAllYaml(json)).toEqual(fromYaml);
    // YAML flow mappings start with '{' too: not JSON, parsed as YAML
    expect(loadAllYaml('{ kind: A, spec: { n: 1 } }')).toEqual([{ kind: 'A', spec: { n: 1 } }]);
    // invalid as JSON and as YAML: the YAML parser's error, with its position
    let err: unknown;
    try {
      loadAllYaml('{"kind": "A", "spec": [1,\n');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(YamlSyntaxError);
    expect((err as YamlSyntaxError).message).toMatch(/at line \d+, column \d+/);
  });
});
