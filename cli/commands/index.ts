// Every `berth` subcommand, in the order `berth --help` lists them: its name, its one-line summary,
// and its module, loaded only when the command runs (so `berth --help` imports none of them).
import type { CommandEntry } from '../command.ts';

export const COMMANDS: CommandEntry[] = [
  {
    name: 'pull',
    summary: 'pull an image from a registry into the store (verified, unpacked)',
    load: async () => (await import('./pull.ts')).pullCommand,
  },
  {
    name: 'images',
    summary: 'list the images in the store',
    load: async () => (await import('./images.ts')).imagesCommand,
  },
  {
    name: 'tag',
    summary: 'give a stored image another reference',
    load: async () => (await import('./tag.ts')).tagCommand,
  },
  {
    name: 'inspect',
    summary: 'print stored images as JSON: config, layers, platform, labels, size',
    load: async () => (await import('./inspect.ts')).inspectCommand,
  },
  {
    name: 'history',
    summary: "print an image's history: the steps that made it, newest first, with their layer sizes",
    load: async () => (await import('./history.ts')).historyCommand,
  },
  {
    name: 'rmi',
    summary: 'remove images and the blobs no other image needs',
    load: async () => (await import('./rmi.ts')).rmiCommand,
  },
  {
    name: 'push',
    summary: 'push a stored image to a registry (as TARGET if given)',
    load: async () => (await import('./push.ts')).pushCommand,
  },
  {
    name: 'run',
    summary: "run an image's entrypoint (pulling it first if needed); exits with the program's code",
    load: async () => (await import('./run.ts')).runCommand,
  },
  {
    name: 'pack',
    summary:
      'make a wasi/wasm image (or, with --artifact, a CNCF Wasm artifact) from a .wasm, into the store or an OCI layout dir',
    load: async () => (await import('./pack.ts')).packCommand,
  },
  {
    name: 'save',
    summary: 'write images to an OCI image-layout tar (skopeo oci-archive:, podman load)',
    load: async () => (await import('./save.ts')).saveCommand,
  },
  {
    name: 'load',
    summary: 'load images from an OCI image-layout tar or a docker save tar',
    load: async () => (await import('./load.ts')).loadCommand,
  },
  {
    name: 'login',
    summary: "check a registry's credentials and keep them as docker does (~/.docker/config.json)",
    load: async () => (await import('./login.ts')).loginCommand,
  },
  {
    name: 'logout',
    summary: 'forget the credentials kept for a registry',
    load: async () => (await import('./logout.ts')).logoutCommand,
  },
  {
    name: 'volume',
    summary: 'list, inspect, create, remove, export or import named volumes (as plain tars)',
    load: async () => (await import('./volume.ts')).volumeCommand,
  },
  {
    name: 'system',
    summary: 'df: what the store holds and what could be freed; prune: free it',
    load: async () => (await import('./system.ts')).systemCommand,
  },
  {
    name: 'image',
    summary: 'prune: free the blobs no image, service or running pull needs',
    load: async () => (await import('./image.ts')).imageCommand,
  },
  {
    name: 'service',
    summary: 'create, list, inspect or remove the services berth serve answers at /svc/NAME/',
    load: async () => (await import('./service.ts')).serviceCommand,
  },
  {
    name: 'logs',
    summary: "print a service's run log: each request, its status and time, and the program's stderr",
    load: async () => (await import('./logs.ts')).logsCommand,
  },
  {
    name: 'serve',
    summary: 'serve the built app and the registry proxy (default 127.0.0.1:5173, or $PORT)',
    load: async () => (await import('./serve.ts')).serveCommand,
  },
  {
    name: 'build-seed',
    summary: 'pack the examples and a workshop config (default berth.seed.json) into the seed the app ships',
    load: async () => (await import('./build-seed.ts')).buildSeedCommand,
  },
  {
    name: 'exec',
    summary: 'run a local wasm32-wasi program with host directories mounted (like wasmtime run --dir)',
    load: async () => (await import('./exec.ts')).execCommand,
  },
];
