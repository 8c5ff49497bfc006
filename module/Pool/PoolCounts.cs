namespace SyncPool.Pool;

/// <summary>How many tasks of a pool are in each state, for progress reporting.</summary>
public sealed record PoolCounts(
    long Queued, long Running, long Completed, long Failed, long Stopped, long TimedOut, long Workers, long AbandonedWorkers)
{
    public long Finished => Completed + Failed + Stopped + TimedOut;
    public long Total => Queued + Running + Finished;
}
