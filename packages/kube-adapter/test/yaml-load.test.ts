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
});
