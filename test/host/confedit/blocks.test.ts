import { describe, expect, it } from "vitest";
import { AlreadyExists, BadInput } from "../../../src/api/errors.js";
import { addBlock, blockNames, findBlock, removeBlock } from "../../../src/host/confedit/blocks.js";

const FQDN = "gallifrey-dev.xivo.vm.farm";
const BODY = "line one\nline two\n";

describe("farmctl blocks", () => {
  it.each([
    ["ends with a newline", "a\nb\n"],
    ["no final newline", "a\nb"],
    ["empty", ""],
    ["only a newline", "\n"],
    ["CRLF lines", "a\r\nb\r\n"],
    ["trailing blank lines", "a\n\n\n"],
  ])("add then remove is the identity (%s)", (_, text) => {
    const added = addBlock(text, "#", FQDN, BODY);
    expect(added).not.toBe(text);
    expect(removeBlock(added, "#", FQDN)).toBe(text);
  });

  it("appends whole lines and keeps the admin's text untouched", () => {
    expect(addBlock("a\n", "#", FQDN, BODY)).toBe(
      `a\n# farmctl begin ${FQDN}\nline one\nline two\n# farmctl end ${FQDN}\n`,
    );
  });

  it("keeps a file without a final newline that way", () => {
    const added = addBlock("a", ";", FQDN, "x");
    expect(added).toBe(`a\n; farmctl begin ${FQDN}\nx\n; farmctl end ${FQDN}`);
  });

  it("normalises the fragment to whole lines without leading blank lines", () => {
    const added = addBlock("", "#", FQDN, "\n\nx  \n\n");
    expect(added).toBe(`# farmctl begin ${FQDN}\nx\n# farmctl end ${FQDN}\n`);
  });

  it("inserts at a line start and removes exactly that", () => {
    const text = "head\n#LAST LINE\n";
    const added = addBlock(text, "#", FQDN, BODY, 5);
    expect(added.startsWith(`head\n# farmctl begin ${FQDN}\n`)).toBe(true);
    expect(added.endsWith(`# farmctl end ${FQDN}\n#LAST LINE\n`)).toBe(true);
    expect(removeBlock(added, "#", FQDN)).toBe(text);
  });

  it("removes blocks in any order back to the original", () => {
    const text = "a";
    const two = addBlock(addBlock(text, "#", "one.farm", "1"), "#", "two.farm", "2");
    expect(blockNames(two, "#")).toEqual(["one.farm", "two.farm"]);
    expect(removeBlock(removeBlock(two, "#", "one.farm"), "#", "two.farm")).toBe(text);
    expect(removeBlock(removeBlock(two, "#", "two.farm"), "#", "one.farm")).toBe(text);
  });

  it("finds a block and its body; absent is undefined and removing it is a no-op", () => {
    const added = addBlock("a\n", "#", FQDN, BODY);
    const b = findBlock(added, "#", FQDN);
    expect(b?.body).toBe(BODY);
    expect(added.slice(b!.start, b!.end)).toContain("# farmctl begin");
    expect(findBlock(added, "#", "other.farm")).toBeUndefined();
    expect(removeBlock("a\n", "#", FQDN)).toBe("a\n");
  });

  it("does not mistake a longer name for the fqdn", () => {
    const added = addBlock("", "#", `${FQDN}x`, BODY);
    expect(findBlock(added, "#", FQDN)).toBeUndefined();
  });

  it("is idempotent for the same block and refuses a different one", () => {
    const added = addBlock("a\n", "#", FQDN, BODY);
    expect(addBlock(added, "#", FQDN, BODY)).toBe(added);
    expect(() => addBlock(added, "#", FQDN, "other\n")).toThrow(AlreadyExists);
  });

  it("refuses a begin marker without its end", () => {
    expect(() => findBlock(`# farmctl begin ${FQDN}\nx\n`, "#", FQDN)).toThrow(BadInput);
  });

  it("refuses a fragment that smuggles in a marker, or an empty one", () => {
    expect(() => addBlock("", "#", FQDN, `x\n# farmctl end ${FQDN}\ny`)).toThrow(BadInput);
    expect(() => addBlock("", "#", FQDN, "  \n")).toThrow(BadInput);
  });

  it("refuses an fqdn that is not a DNS name", () => {
    expect(() => addBlock("", "#", "a b", "x")).toThrow(BadInput);
    expect(() => removeBlock("", "#", "a\nb")).toThrow(BadInput);
  });
});
