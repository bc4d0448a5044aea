import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { formatError } from "./cli-context.js";

// Not a terminal: no colour.
const plain = new PassThrough() as unknown as NodeJS.WriteStream;

describe("formatError", () => {
  it("indents every line of a multi-line detail, such as a command's output", () => {
    expect(
      formatError("building the images failed", ["#14 load\n#14 transferring\nERROR: x"], plain),
    ).toBe("error: building the images failed\n  #14 load\n  #14 transferring\n  ERROR: x");
  });

  it("one line per detail otherwise", () => {
    expect(formatError("bad", ["a", "b"], plain)).toBe("error: bad\n  a\n  b");
  });
});
