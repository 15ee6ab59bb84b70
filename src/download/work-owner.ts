/**
 * Which process owns a piece of download work (a direct extract's directory, a row of download_work.params),
 * so that what a crashed process left behind is removed when the next one starts, not a day later.
 *
 * A tag is `<host>~<pid>~<start>`: host and pid find the process, the start time (ms) tells a process that
 * reused a dead one's pid (a container restarted as pid 1 again) from the dead one. A tag of this host is
 * dead when its pid is not running, or when it is this process's pid with another start time. Tags of other
 * hosts are never judged here (their own restart, or the janitor's one-day rule, removes them).
 */
import { hostname } from 'node:os';

const HOST = hostname().replace(/[^A-Za-z0-9.-]/g, '_');
const STARTED = Date.now() - Math.round(process.uptime() * 1000);

/** This process's tag. */
export const WORK_OWNER = `${HOST}~${process.pid}~${STARTED}`;

/** The tag at the start of a name (`<tag>~<rest>`), or undefined. */
export function ownerOf(name: string): string | undefined {
  const m = /^([A-Za-z0-9._-]+~\d+~\d+)~/.exec(name);
  return m?.[1];
}

/** Is this tag a process of this host that no longer runs? */
export function isDeadOwner(tag: string): boolean {
  const [host, pidText, startText] = tag.split('~');
  if (host !== HOST) return false;
  const pid = Number(pidText);
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return Number(startText) !== STARTED;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    // EPERM: a process of another user holds the pid, so not ours any more.
    return (e as NodeJS.ErrnoException).code === 'ESRCH' || (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
