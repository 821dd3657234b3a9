export * from './raw-http.ts';
export * from './response-parser.ts';
export * from './wagi.ts';
export * from './service-record.ts';
export * from './serve-request.ts';
export * from './run-log.ts';
export * from './seed.ts';
export * from './setup-archive.ts';
