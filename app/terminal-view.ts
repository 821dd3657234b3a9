// The terminal: runs an image's entrypoint (or a typed command line) in a fresh worker with stdin
// typed live. xterm.js shows the output as the program writes it; the line discipline is ours:
// typed characters are echoed locally and sent a line at a time on Enter (Backspace and Ctrl-U edit
// the line), Ctrl-D sends the pending line and then end of input, Ctrl-C stops the run (its worker
// is terminated). Input travels page -> Service Worker (postMessage) -> the worker's synchronous
// read (see runtime/run/stdin-channel.ts).
import '@xterm/xterm/css/xterm.css';
import './terminal.css';
import type { Terminal } from '@xterm/xterm';
import type { ImageRecord } from '../runtime/images/index.ts';
import { stdinUrl, type StdinMessage } from '../runtime/run/stdin-channel.ts';
import { formatCommandLine, parseCommandLine } from './command-line.ts';
import type { AppContext } from './context.ts';
import type { InteractiveRun } from './worker-pool.ts';

const enc = new TextEncoder();
const DIM = '\x1b[2m';
const RED = '\x1b[91m';
const RESET = '\x1b[0m';

interface ActiveRun {
  id: string;
  ref: string;
  handle: InteractiveRun;
  /** The line being typed, not yet sent. */
  line: string;
  eofSent: boolean;
}

function defaultCommand(img: ImageRecord | undefined): string {
  const c = img?.config.config;
  return formatCommandLine([...(c?.Entrypoint ?? []), ...(c?.Cmd ?? [])]);
}

/**
 * Wires the terminal section (index.html #terminal-section): its form (image select, command,
 * Start, End input, Stop), the xterm container and the status line. The image select follows the
 * images store of the app context; runs go to its worker pool.
 */
export function bindTerminal(section: HTMLElement, ctx: AppContext): void {
  const images = () => ctx.state.images.get();
  const form = section.querySelector<HTMLFormElement>('form')!;
  const select = form.querySelector<HTMLSelectElement>('select[name="image"]')!;
  const commandInput = form.querySelector<HTMLInputElement>('input[name="command"]')!;
  const startButton = form.querySelector<HTMLButtonElement>('button[type="submit"]')!;
  const eofButton = form.querySelector<HTMLButtonElement>('button[data-action="eof"]')!;
  const stopButton = form.querySelector<HTMLButtonElement>('button[data-action="stop"]')!;
  const screen = section.querySelector<HTMLElement>('.terminal')!;
  const status = section.querySelector<HTMLElement>('[data-role="terminal-status"]')!;

  let term: Terminal | undefined;
  let run: ActiveRun | undefined;

  const fill = () => {
    const list = images();
    const keep = select.value;
    select.replaceChildren(...list.map((i) => new Option(i.ref, i.ref, false, i.ref === keep)));
    select.disabled = list.length === 0 || run !== undefined;
    updatePlaceholder();
  };
  const updatePlaceholder = () => {
    const cmd = defaultCommand(images().find((i) => i.ref === select.value));
    commandInput.placeholder = cmd ? `empty runs the entrypoint: ${cmd}` : "empty runs the image's entrypoint";
  };
  fill();
  select.addEventListener('change', updatePlaceholder);
  // Every pull, load and remove refreshes the images store: follow it.
  ctx.state.images.subscribe(fill);

  const setRunning = (running: boolean) => {
    startButton.disabled = running;
    select.disabled = running || select.options.length === 0;
    commandInput.disabled = running;
    eofButton.disabled = !running;
    stopButton.disabled = !running;
    section.dataset.running = String(running);
  };
  const setStatus = (text: string, state: 'idle' | 'running' | 'exited' | 'error') => {
    status.textContent = text;
    status.dataset.state = state;
  };

  const toSw = (m: StdinMessage) => {
    const sw = navigator.serviceWorker?.controller;
    if (!sw) {
      const message = 'berth: no Service Worker controls this page, so input cannot reach the program';
      term?.write(`\r\n${RED}${message}${RESET}\r\n`);
      return;
    }
    sw.postMessage(m);
  };
  const send = (r: ActiveRun, text: string) => {
    if (text && !r.eofSent) toSw({ type: 'berth:stdin', runId: r.id, bytes: enc.encode(text) });
  };
  const endInput = (r: ActiveRun) => {
    if (r.eofSent) return;
    send(r, r.line);
    r.line = '';
    r.eofSent = true;
    toSw({ type: 'berth:stdin-eof', runId: r.id });
    setStatus(`Running ${r.ref}; input ended.`, 'running');
  };
  const stop = (r: ActiveRun) => {
    term?.write('^C');
    r.handle.stop();
  };

  /** Our line discipline over what xterm reports as typed (or pasted). */
  const onData = (data: string) => {
    const r = run;
    if (!r || !term) return;
    if (data.startsWith('\x1b')) return; // arrows, function keys: no line editing beyond the end
    const chars = Array.from(data);
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i];
      if (c === '\x03') return stop(r);
      if (c === '\x04') {
        endInput(r);
        continue;
      }
      if (r.eofSent) continue;
      if (c === '\r' || c === '\n') {
        if (c === '\r' && chars[i + 1] === '\n') i++;
        term.write('\r\n');
        send(r, `${r.line}\n`);
        r.line = '';
      } else if (c === '\x7f' || c === '\b') {
        if (r.line) {
          r.line = Array.from(r.line).slice(0, -1).join('');
          term.write('\b \b');
        }
      } else if (c === '\x15') {
        term.write('\b \b'.repeat(Array.from(r.line).length));
        r.line = '';
      } else if (c >= ' ' || c === '\t') {
        r.line += c;
        term.write(c);
      }
    }
  };

  const ready = import('@xterm/xterm').then(({ Terminal }) => {
    term = new Terminal({
      convertEol: true,
      cursorBlink: true,
      rows: 16,
      scrollback: 5000,
      fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace',
      fontSize: 14,
      // At line height 1 the DOM renderer's rows are as tall as the font's ascent + descent, and an
      // underscore drawn below that is clipped by the next row: `$_AND_` showed as `$ AND ` at 1x.
      lineHeight: 1.25,
      theme: { background: '#0b1e33', foreground: '#e6edf3' },
    });
    term.open(screen);
    term.onData(onData);
    // xterm's own input element: name it for assistive technology.
    term.textarea?.setAttribute(
      'aria-label',
      'Terminal input: type a line and press Enter; Ctrl-D ends input, Ctrl-C stops the program',
    );
    term.write(`${DIM}Pick an image and press Start.${RESET}\r\n`);
    return term;
  });
  setRunning(false);
  startButton.disabled = true;
  ready.then(
    () => {
      startButton.disabled = false;
      setStatus('Ready.', 'idle');
    },
    (e: unknown) => setStatus(`The terminal could not load: ${e instanceof Error ? e.message : String(e)}`, 'error'),
  );

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (run) return;
    const t = await ready;
    const ref = select.value;
    if (!ref) return setStatus('No image to run: pull or load one first.', 'error');
    let command: string[] | undefined;
    try {
      const argv = parseCommandLine(commandInput.value);
      command = argv.length > 0 ? argv : undefined;
    } catch (e) {
      return setStatus(`Command: ${e instanceof Error ? e.message : String(e)}`, 'error');
    }
    const id = crypto.randomUUID();
    delete section.dataset.exitCode;
    t.write(`${DIM}$ ${ref}${command ? ` ${commandInput.value.trim()}` : ''}${RESET}\r\n`);
    const job = {
      kind: 'interactive' as const,
      id,
      image: ref,
      ...(command ? { command } : {}),
      stdinUrl: stdinUrl(location.href, id),
    };
    const handle = ctx.pool.runInteractive(job, (fd, chunk) => {
      if (fd === 2) {
        t.write(RED);
        t.write(chunk);
        t.write(RESET);
      } else t.write(chunk);
    });
    const r: ActiveRun = { id, ref, handle, line: '', eofSent: false };
    run = r;
    setRunning(true);
    setStatus(`Running ${ref}…`, 'running');
    // xterm pauses rendering while it is out of view: bring it into view with the focus.
    screen.scrollIntoView({ block: 'nearest' });
    t.focus();
    const exit = await handle.done;
    toSw({ type: 'berth:stdin-close', runId: id });
    run = undefined;
    const what = exit.stopped
      ? 'stopped'
      : exit.trap
        ? `trapped: ${exit.trap.split('\n')[0]}`
        : `exit code ${exit.exitCode}`;
    t.write(`\r\n${DIM}[${what}]${RESET}\r\n`);
    setRunning(false);
    const trapped = exit.trap ? ' (trapped)' : '';
    setStatus(exit.stopped ? `${ref} was stopped.` : `${ref} exited with code ${exit.exitCode}${trapped}.`, 'exited');
    section.dataset.exitCode = String(exit.exitCode);
  });
  eofButton.addEventListener('click', () => {
    if (run) endInput(run);
    term?.focus();
  });
  stopButton.addEventListener('click', () => {
    if (run) stop(run);
  });
}
