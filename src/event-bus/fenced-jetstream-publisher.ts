import { randomUUID } from 'node:crypto';
import { JetStreamApiCodes, JetStreamApiError, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { RecordedEvent } from '../event-store/event-envelope.js';
import { PublisherFenced, SUBJECT_PREFIX, subjectOf, type BusPublisher } from './event-bus.js';

/**
 * Where takeover markers go: in the OAUTH stream, so they are ordered with the events, but
 * outside `oauth.>`, so no consumer of events ever receives one.
 */
export const TAKEOVER_SUBJECT = 'oauth-relay.takeover';

/** The last message on the stream that this publisher put there (or its own takeover marker). */
interface Tip {
  seq: number;
  id: string;
}

/**
 * The relay's fence, kept by the JetStream server itself (a paused publisher cannot know it
 * lost its lease, so no check of its own could be one).
 *
 * Taking over writes a marker into the stream. The first message of every batch expects the
 * stream's last sequence to be the one this publisher's last acknowledged message (or its
 * marker) got: nothing may have come after it. A newer marker did, so every later publish
 * of the older publisher is refused. The server looks for a duplicate message id before it
 * checks expectations (nats-server `processJetStreamMsg`), so an event already on the stream
 * is acknowledged as a duplicate and never stored twice, whoever sends it; anything new from
 * a fenced publisher is refused.
 *
 * The later messages of a pipelined batch expect a sequence not yet acknowledged, so they
 * expect the message id before them too, since each alone leaves a hole: the message id
 * alone would accept the old publisher's next event right after the successor published the
 * one before it; the sequence alone would accept an event landing right after the marker
 * when the one before it was refused. Together they need the old publisher's own previous
 * message at the exact sequence, and the marker has shifted the successor's copies by one.
 * (Not the message id on the first: a server restarted once the duplicate window has passed
 * no longer knows its last message id, and would refuse the one publisher it has.)
 */
export class FencedJetStreamPublisher implements BusPublisher {
  private fence: PublisherFenced | undefined;

  private constructor(
    private readonly js: JetStreamClient,
    private tip: Tip,
    readonly lastPosition: number,
    private readonly publishTimeoutMs: number,
  ) {}

  static async takeOver(js: JetStreamClient, jsm: JetStreamManager, stream: string, name: string, publishTimeoutMs: number): Promise<FencedJetStreamPublisher> {
    const id = `takeover-${randomUUID()}`;
    // No expectation on the marker: whatever it lands after is final for new events (a
    // publisher fenced by it is refused from then on), so the last event before it is exact.
    const ack = await js.publish(TAKEOVER_SUBJECT, JSON.stringify({ publisher: name, at: new Date().toISOString() }), { msgID: id, timeout: publishTimeoutMs });
    const lastPosition = await lastEventBefore(jsm, stream, ack.seq);
    return new FencedJetStreamPublisher(js, { seq: ack.seq, id }, lastPosition, publishTimeoutMs);
  }

  async publish(events: RecordedEvent[]): Promise<number> {
    // Fenced before this batch: none of it was acknowledged (the fence's count was another batch's).
    if (this.fence) throw new PublisherFenced(this.fence.message, 0);
    const base = this.tip;
    const expected = (i: number): Tip => ({ seq: base.seq + i, id: i === 0 ? base.id : events[i - 1].id });
    // Pipelined: each message expects the one before it, so one lost makes every later one refused.
    const results = await Promise.allSettled(
      events.map((event, i) =>
        this.js.publish(subjectOf(event), JSON.stringify(event), {
          msgID: event.id,
          timeout: this.publishTimeoutMs,
          expect: i === 0 ? { lastSequence: base.seq } : { lastSequence: expected(i).seq, lastMsgID: expected(i).id },
        }),
      ),
    );
    let acknowledged = 0;
    for (const [i, result] of results.entries()) {
      if (result.status === 'rejected') {
        const mine = expected(i);
        // Refused although the stream's last message was, by every acknowledgement so far,
        // the one it expected: another publisher put something after it.
        if (isWrongLast(result.reason) && this.tip.seq === mine.seq && (i === 0 || this.tip.id === mine.id)) {
          this.fence = new PublisherFenced(`another publisher took over the event bus (${(result.reason as Error).message})`, acknowledged);
          throw this.fence;
        }
        break;
      }
      // A duplicate right at the next sequence is this publisher's own, sent before with its
      // acknowledgement lost; one elsewhere is on the stream, but not where this chain is.
      if (result.value.seq === this.tip.seq + 1) this.tip = { seq: result.value.seq, id: events[i].id };
      acknowledged += 1;
    }
    return acknowledged;
  }
}

function isWrongLast(error: unknown): boolean {
  return error instanceof JetStreamApiError && (error.code === JetStreamApiCodes.StreamWrongLastSequence || error.code === JS_WRONG_LAST_MSG_ID);
}

/** `JSStreamWrongLastMsgIDErrF`: the client names the sequence code, not this one. */
const JS_WRONG_LAST_MSG_ID = 10070;

/** The position of the newest event stored before `seq` (markers are not events), 0 when there is none. */
async function lastEventBefore(jsm: JetStreamManager, stream: string, seq: number): Promise<number> {
  // Nothing new lands after the marker but this publisher's own events, and it has sent none
  // yet: the newest event on the stream is the newest before the marker.
  const newest = await jsm.streams.getMessage(stream, { last_by_subj: `${SUBJECT_PREFIX}.>` });
  if (!newest) return 0;
  if (newest.seq < seq) return positionOf(newest.json<Partial<RecordedEvent>>());
  // Someone put events after the marker without expectations: read back from the marker.
  const { state } = await jsm.streams.info(stream);
  for (let s = seq - 1; s >= state.first_seq && s > 0; s--) {
    const message = await jsm.streams.getMessage(stream, { seq: s });
    if (message && message.subject !== TAKEOVER_SUBJECT) return positionOf(message.json<Partial<RecordedEvent>>());
  }
  return 0;
}

function positionOf(event: Partial<RecordedEvent>): number {
  return typeof event.position === 'number' ? event.position : 0;
}
