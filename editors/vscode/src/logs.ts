// The server's stderr (tracing's plain format) turned into log-channel entries.

/** A log-channel level for a server line. */
export type ChannelLevel = 'error' | 'warn' | 'info';

/** One entry for the log output channel. */
export interface LogEntry {
  readonly level: ChannelLevel;
  readonly text: string;
}

const TRACING_LINE = /^\d{4}-\d\d-\d\dT[\d:.]+Z?\s+(ERROR|WARN|INFO|DEBUG|TRACE)\s+(.*)$/;

/** A line of pin-lsp's stderr as a log entry. The channel stamps its own time, so tracing's is
 * dropped. Errors and warnings keep their level; everything else is written at `info`, because
 * the server already filtered by `pinLint.logLevel` and the channel's own default level would
 * hide debug and trace lines a second time (those keep their level word in the text). Lines
 * that are not tracing's (a panic message) are errors. */
export function serverLogEntry(line: string): LogEntry {
  const m = TRACING_LINE.exec(line);
  if (m === null) {
    return { level: 'error', text: line };
  }
  const [, level, rest] = m;
  switch (level) {
    case 'ERROR':
      return { level: 'error', text: rest };
    case 'WARN':
      return { level: 'warn', text: rest };
    case 'INFO':
      return { level: 'info', text: rest };
    default:
      return { level: 'info', text: `${level} ${rest}` };
  }
}
