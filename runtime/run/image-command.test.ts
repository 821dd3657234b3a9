import { describe, expect, it } from 'vitest';
import type { ImageConfig } from '../core/index.ts';
import { imageCommand } from './image-command.ts';

const config = (c: NonNullable<ImageConfig['config']>): ImageConfig => ({
  architecture: 'wasm',
  os: 'wasi',
  config: c,
  rootfs: { type: 'layers', diff_ids: [] },
});

describe('imageCommand', () => {
  it('joins Entrypoint and Cmd and parses Env', () => {
    const cmd = imageCommand(
      config({ Entrypoint: ['/app.wasm'], Cmd: ['--port', '80'], Env: ['A=1', 'B=x=y'], WorkingDir: '/srv' }),
    );
    expect(cmd.argv).toEqual(['/app.wasm', '--port', '80']);
    expect(cmd.env).toEqual({ A: '1', B: 'x=y', PWD: '/srv' });
    expect(cmd.workdir).toBe('/srv');
  });
  it('applies overrides like docker run: an entrypoint override drops Cmd', () => {
    const c = config({ Entrypoint: ['/app.wasm'], Cmd: ['default'] });
    expect(imageCommand(c, { args: ['x'] }).argv).toEqual(['/app.wasm', 'x']);
    expect(imageCommand(c, { entrypoint: ['/other.wasm'] }).argv).toEqual(['/other.wasm']);
    expect(imageCommand(c, { env: { A: '2' } }).env.A).toBe('2');
  });
  it('refuses an image with nothing to run', () => {
    expect(() => imageCommand(config({}))).toThrowError(expect.objectContaining({ code: 'invalid-argument' }));
  });
});
