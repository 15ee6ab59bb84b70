/**
 * Tell the requester that a deferred job is over: an e-mail (SMTP settings config.download.smtp, sent with
 * nodemailer) and/or a webhook (POST JSON: id, state, link, expiry…), as the request's `notify` asked.
 * Sent at most once per job (sdi.jobs.notified_at); failures are logged, never fatal to the job.
 */
import nodemailer from 'nodemailer';
import type { Platform } from '../../platform.js';
import type { Notification } from '../request.js';
import { takeNotification, type JobRow } from './queue.js';
import { resultLink } from './signed-link.js';
import { OutboundError, OutboundPolicy, outboundRequest } from '../../net/outbound.js';

export interface NotifyLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

const WEBHOOK_TIMEOUT_MS = 10_000;

/**
 * The public root of the platform for links sent out (webhooks, e-mails): BASE_URL, else the server's own
 * listen address; never anything a request's headers said (X-Forwarded-Host would let anyone aim the signed
 * link of someone else's job at their own host).
 */
export function configuredRoot(platform: Platform): string {
  return platform.config.baseUrl ?? `http://${platform.config.host}:${platform.config.port}`;
}

/** The public URL of the download service for a job (stored at submission from configuredRoot). */
export function serviceBase(platform: Platform, job: Pick<JobRow, 'base_url'>): string {
  return job.base_url ?? `${configuredRoot(platform)}/download`;
}

/** Where webhooks may go: public addresses, and what SDI_OUTBOUND_ALLOW adds. */
export function webhookPolicy(platform: Platform): OutboundPolicy {
  return new OutboundPolicy(platform.config.outboundAllow);
}

export interface JobMessage {
  id: string;
  state: string;
  status: string;
  link?: string;
  expires?: string;
  filename?: string;
  bytes?: number;
  features?: Record<string, number>;
  error?: string;
}

export async function jobMessage(platform: Platform, job: JobRow): Promise<JobMessage> {
  const base = serviceBase(platform, job);
  const m: JobMessage = { id: job.id, state: job.state, status: `${base}/jobs/${job.id}` };
  if (job.state === 'done' && job.expires_at) {
    const l = await resultLink(platform, base, job.id, job.expires_at);
    m.link = l.href;
    m.expires = l.expires;
    const r = job.result ?? {};
    if (typeof r.filename === 'string') m.filename = r.filename;
    if (typeof r.bytes === 'number') m.bytes = r.bytes;
    if (r.features && typeof r.features === 'object') m.features = r.features as Record<string, number>;
  }
  if (job.error) m.error = job.error;
  return m;
}

/** Send what the job's request asked for; resolves when done (never rejects). */
export async function notifyJob(platform: Platform, job: JobRow, log: NotifyLog): Promise<void> {
  const notify = (job.request as { notify?: Notification } | null)?.notify;
  if (!notify || (!notify.email && !notify.webhook)) return;
  if (!(await takeNotification(platform.pool, job.id).catch(() => false))) return;
  const m = await jobMessage(platform, job);
  const outcome: Record<string, ChannelOutcome> = {};
  const sends: Promise<void>[] = [];
  if (notify.email) {
    sends.push(
      sendMail(platform, notify.email, m).then(
        () => {
          outcome.email = { state: 'sent', at: new Date().toISOString() };
          log.info({ job: job.id, to: notify.email }, 'job notification e-mail sent');
        },
        (err) => {
          outcome.email = { state: 'failed', at: new Date().toISOString(), reason: mailFailure(err) };
          log.warn({ job: job.id, err: String(err) }, 'job notification e-mail failed');
        },
      ),
    );
  }
  if (notify.webhook) {
    sends.push(
      postWebhook(webhookPolicy(platform), notify.webhook, m).then(
        () => {
          outcome.webhook = { state: 'sent', at: new Date().toISOString() };
          log.info({ job: job.id, url: notify.webhook }, 'job webhook delivered');
        },
        (err) => {
          const reason = err instanceof OutboundError ? err.detail : 'the webhook could not be delivered';
          outcome.webhook = { state: 'failed', at: new Date().toISOString(), reason };
          log.warn({ job: job.id, err: err instanceof OutboundError ? err.detail : String(err) }, 'job webhook failed');
        },
      ),
    );
  }
  await Promise.all(sends);
  await platform.pool.query('UPDATE sdi.jobs SET notification = $2::jsonb WHERE id = $1', [job.id, JSON.stringify(outcome)]).catch((err) => log.warn({ job: job.id, err: String(err) }, 'notification outcome not recorded'));
}

/** What the requester may see of a notification (no SMTP host, credentials or server text beyond a reply code). */
export interface ChannelOutcome {
  state: 'sent' | 'failed';
  at: string;
  reason?: string;
}

/** A short reason for a failed e-mail, from nodemailer's error codes (EENVELOPE, ECONNECTION, EAUTH…). */
function mailFailure(err: unknown): string {
  const e = err as { code?: string; responseCode?: number; message?: string };
  if (e?.message?.startsWith('no SMTP settings')) return 'the platform has no mail server configured';
  if (e?.code === 'EENVELOPE') return `the mail server refused the address${e.responseCode ? ` (SMTP ${e.responseCode})` : ''}`;
  if (e?.code === 'EAUTH') return 'the platform could not sign in to its mail server';
  if (e?.code === 'ECONNECTION' || e?.code === 'ETIMEDOUT' || e?.code === 'ESOCKET' || e?.code === 'EDNS') return 'the mail server could not be reached';
  return `the e-mail could not be sent${e?.responseCode ? ` (SMTP ${e.responseCode})` : ''}`;
}

async function sendMail(platform: Platform, to: string, m: JobMessage): Promise<void> {
  const smtp = platform.config.download.smtp;
  if (!smtp) throw new Error('no SMTP settings (SDI_SMTP_HOST): e-mail not sent');
  const transport = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure,
    ...(smtp.user ? { auth: { user: smtp.user, pass: smtp.password ?? '' } } : {}),
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 30_000,
  });
  const title = platform.config.service.title;
  const lines =
    m.state === 'done'
      ? [
          'Bonjour,',
          '',
          `Votre extraction ${m.id} est prête${m.filename ? ` (${m.filename}, ${m.bytes ?? '?'} octets)` : ''}.`,
          `Téléchargez-la ici jusqu'au ${m.expires} :`,
          m.link!,
          '',
          `Your extract is ready; download it from the link above until ${m.expires}.`,
        ]
      : ['Bonjour,', '', `Votre extraction ${m.id} n'a pas abouti (${m.state})${m.error ? ` : ${m.error}` : ''}.`, `Suivi : ${m.status}`, '', `Your extract did not complete (${m.state}).`];
  await transport.sendMail({
    from: smtp.from,
    to,
    subject: m.state === 'done' ? `[${title}] Votre extraction est prête` : `[${title}] Votre extraction n'a pas abouti`,
    text: [...lines, '', '--', title, ''].join('\n'),
  });
  transport.close();
}

async function postWebhook(policy: OutboundPolicy, url: string, m: JobMessage): Promise<void> {
  // Checked again at delivery: the address behind a name may have changed since the job was accepted.
  const r = await outboundRequest(
    url,
    { method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': 'sdi-download-jobs' }, body: JSON.stringify(m), timeoutMs: WEBHOOK_TIMEOUT_MS, maxBytes: 64 * 1024, maxRedirects: 0 },
    policy,
  );
  if (r.status >= 300) throw new Error(`webhook answered HTTP ${r.status}`);
}
