import { describe, expect, it } from 'vitest';
import { RegistryClient } from './registry-client.ts';

describe('RegistryClient', () => {
  it('uses https except for loopback registries and those marked insecure', () => {
    const c = new RegistryClient({ insecureRegistries: ['reg.lan:5000'] });
    expect(c.baseUrl('ghcr.io')).toBe('https://ghcr.io');
    expect(c.baseUrl('docker.io')).toBe('https://registry-1.docker.io');
    expect(c.baseUrl('localhost:5000')).toBe('http://localhost:5000');
    expect(c.baseUrl('127.0.0.1:5000')).toBe('http://127.0.0.1:5000');
    expect(c.baseUrl('reg.lan:5000')).toBe('http://reg.lan:5000');
    expect(c.baseUrl('reg.lan:5001')).toBe('https://reg.lan:5001');
  });
});
