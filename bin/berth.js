#!/usr/bin/env node
// The berth command: runs the TypeScript CLI through tsx's loader (Node 20 cannot strip types).
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
