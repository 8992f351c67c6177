import { describe, expect, it } from "vitest";
import { parseJsonAllowingTrailingCommas } from "../../../src/providers/kingsoft/lenient-json.js";

const parse = parseJsonAllowingTrailingCommas;

describe("JSON with trailing commas (Kingsoft's pushes as its doc prints them)", () => {
  it.each([
    ['{"a":1,}', { a: 1 }],
    ["[1,2,]", [1, 2]],
    ['[{"a":[1,],},]', [{ a: [1] }]],
    ['{"a":1 , \n\t }', { a: 1 }],
    ['{"VoiceType":2, \n    }', { VoiceType: 2 }],
  ])("drops the trailing comma of %j", (text, value) => {
    expect(parse(text)).toEqual(value);
  });

  it("reads strict JSON exactly as JSON.parse does", () => {
    const text = '{"a":[1,"x,]",{"b":null}],"c":"\\",}"}';
    expect(parse(text)).toEqual(JSON.parse(text));
  });

  it.each([
    ['{"a":",}"}', { a: ",}" }],
    ['{"a":"\\",}",}', { a: '",}' }],
    ['{"a":"\\\\",}', { a: "\\" }],
    ['["]",]', ["]"]],
  ])("leaves commas inside strings alone in %j", (text, value) => {
    expect(parse(text)).toEqual(value);
  });

  it.each([
    ["an empty element", "[1,,2]"],
    ["a doubled trailing comma", "[1,,]"],
    ["a leading comma", "[,1]"],
    ["a lone comma", "[,]"],
    ["an object with only a comma", "{,}"],
    ["a comment", '{"a":1 /* x */}'],
    ["single quotes", "{'a':1}"],
    ["a trailing comma at the top level", "1,"],
    ["an unterminated string", '["a,]'],
    ["nothing", ""],
  ])("still refuses %s", (_name, text) => {
    expect(() => parse(text)).toThrow(SyntaxError);
  });
});
