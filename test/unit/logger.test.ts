import { pinoLogger } from '../../src/observability/logger.js';

describe('the JSON log', () => {
  const logged = (level?: 'info' | 'error') => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pinoLogger({ write: (line: string) => void lines.push(JSON.parse(line)) }, level);
    logger.info('relay started', { position: 3 });
    logger.request!({ method: 'POST', path: '/token', status: 200 });
    logger.error('request failed', { error: 'TypeError', password: 'hunter2' });
    return lines;
  };

  it('writes news, a line per request and errors at info, with secrets redacted', () => {
    const lines = logged();
    expect(lines.map((l) => l.msg)).toEqual(['relay started', 'request', 'request failed']);
    expect(lines[2]).toMatchObject({ level: 50, error: 'TypeError', password: '[redacted]' });
    expect(lines[1]).toMatchObject({ method: 'POST', path: '/token', status: 200, time: expect.any(String) });
  });

  it('writes errors only at LOG_LEVEL=error', () => {
    expect(logged('error').map((l) => l.msg)).toEqual(['request failed']);
  });
});
