using SyncPool.Native;

namespace SyncPool.Pool;

/// <summary>Where a task is in its life. The native pool decides transitions; this is PowerShell's view of them.</summary>
public enum ParallelTaskState
{
    Queued,
    Running,
    Completed,
    Failed,
    Stopped,
    TimedOut,
}

internal static class ParallelTaskStates
{
    /// <summary>Maps the generated native status (a struct) to the enum PowerShell users compare with strings.</summary>
    public static ParallelTaskState From(TaskStatus status) =>
        status.IsQueued ? ParallelTaskState.Queued :
        status.IsRunning ? ParallelTaskState.Running :
        status.IsCompleted ? ParallelTaskState.Completed :
        status.IsFailed ? ParallelTaskState.Failed :
        status.IsStopped ? ParallelTaskState.Stopped :
        ParallelTaskState.TimedOut;
}
