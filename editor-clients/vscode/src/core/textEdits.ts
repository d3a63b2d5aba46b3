/**
 * LSP text edits applied to a string: what a proposed edit will make of a document,
 * for the diff preview. Positions are UTF-16 code units, as in JavaScript strings
 * (VS Code's position encoding). Pure: unit-tested directly.
 */
import type { Range } from "./protocol";

export interface LspTextEdit {
  range: Range;
  newText: string;
}

/** Offsets of the start of each line ("\r\n", "\n" and "\r" end lines, as in VS Code). */
export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 13 /* \r */) {
      if (text.charCodeAt(i + 1) === 10) {
        i++;
      }
      starts.push(i + 1);
    } else if (c === 10 /* \n */) {
      starts.push(i + 1);
    }
  }
  return starts;
}

function lineEnd(text: string, starts: number[], line: number): number {
  let end = line + 1 < starts.length ? starts[line + 1] : text.length;
  if (end > starts[line] && text[end - 1] === "\n") {
    end--;
  }
  if (end > starts[line] && text[end - 1] === "\r") {
    end--;
  }
  return end;
}

/** The offset of a position, clamped to the document as VS Code clamps it. */
export function offsetAt(text: string, starts: number[], line: number, character: number): number {
  if (line < 0) {
    return 0;
  }
  if (line >= starts.length) {
    return text.length;
  }
  return Math.min(starts[line] + Math.max(0, character), lineEnd(text, starts, line));
}

/** Apply non-overlapping edits (any order), as one change. Throws on overlap. */
export function applyTextEdits(text: string, edits: readonly LspTextEdit[]): string {
  const starts = lineStarts(text);
  const spans = edits
    .map((e, index) => ({
      start: offsetAt(text, starts, e.range.start.line, e.range.start.character),
      end: offsetAt(text, starts, e.range.end.line, e.range.end.character),
      newText: e.newText,
      index,
    }))
    .sort((a, b) => a.start - b.start || a.end - b.end || a.index - b.index);
  let out = "";
  let at = 0;
  for (const span of spans) {
    if (span.start < at || span.end < span.start) {
      throw new Error("the edit's changes overlap, so it cannot be previewed or applied");
    }
    out += text.slice(at, span.start) + span.newText;
    at = span.end;
  }
  return out + text.slice(at);
}
