import { describe, expect, it } from 'vitest';
import { engineNotes } from './engine-notes.ts';

describe('engineNotes', () => {
  it('says nothing where every feature is there', () => {
    expect(engineNotes({ jspi: true, blobs: 'blob', persist: true })).toEqual([]);
  });
  it('says what each missing feature changes, one note each', () => {
    const notes = engineNotes({ jspi: false, blobs: 'bytes', persist: false });
    expect(notes).toHaveLength(3);
    expect(notes[0]).toMatch(/No JSPI.*Keep a berth window open/);
    expect(notes[1]).toMatch(/does not keep files in IndexedDB.*gone when the session ends/);
    expect(notes[2]).toMatch(/cannot be asked to keep/);
  });
  it('notes only JSPI in an engine without it (WebKit)', () => {
    expect(engineNotes({ jspi: false, blobs: 'blob', persist: true })).toEqual([expect.stringContaining('JSPI')]);
  });
});
