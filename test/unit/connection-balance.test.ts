/**
 * Kept-alive connections spread over the serving processes (src/server/connection-balance.ts): how many of its
 * connections a process lets go, from its own count, the sum over the processes and their number. The end-to-end
 * case (two processes, a burst of 8 connections) is in test/integration/serving-processes.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { excessConnections } from '../../src/server/connection-balance.js';

describe('excessConnections', () => {
  it('lets go what is over the share, rounded up', () => {
    expect(excessConnections(8, 8, 2)).toBe(4);
    expect(excessConnections(5, 8, 2)).toBe(1);
    expect(excessConnections(4, 8, 2)).toBe(0);
    expect(excessConnections(3, 8, 2)).toBe(0);
    // An odd total: 2/1 is as even as it gets (no connection closed back and forth).
    expect(excessConnections(2, 3, 2)).toBe(0);
    expect(excessConnections(3, 3, 2)).toBe(1);
    expect(excessConnections(6, 9, 4)).toBe(3);
  });

  it('does nothing alone, or with no connection', () => {
    expect(excessConnections(8, 8, 1)).toBe(0);
    expect(excessConnections(0, 0, 2)).toBe(0);
  });
});
