export * from './bundle.ts';
export * from './trusted-root.ts';
export * from './public-good.ts';
export { parseCertificate, type Certificate } from './x509.ts';
