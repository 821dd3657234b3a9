// Text from images, registries, archives and services, as the CLI prints it: control characters
// (C0 but newline and tab, DEL, C1) written out as \u001b and the like, so a hostile label, error
// message or stderr line cannot drive the user's terminal (clear the screen, set its title, write
// the clipboard with OSC 52, draw a fake prompt). JSON output is safe as it is (JSON escapes them).

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const CONTROL_OR_BREAK = /[\u0000-\u001f\u007f-\u009f]/g;

const written = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** `text` with its control characters written out; newlines and tabs kept unless `oneLine`. */
export function terminalText(text: string, oneLine = false): string {
  return text.replace(oneLine ? CONTROL_OR_BREAK : CONTROL, written);
}
