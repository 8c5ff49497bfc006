using System;
using System.Collections.Generic;
using System.Management.Automation;
using SyncPool.Native;

namespace SyncPool.Pool;

/// <summary>
/// Stops a set of tasks in one call to the engine, which stops the queued
/// ones first. Stopped one by one, each running task's stop freed a slot
/// that a queued task of the same set took before its own stop came: its
/// script ran, although it ended Stopped (QA: 23 to 100 of 100 scripts ran
/// with a throttle of 4).
/// </summary>
internal static class TaskStops
{
    /// <summary>
    /// Stops every unfinished task of <paramref name="tasks"/> with
    /// <paramref name="message"/> (the engine skips tasks no longer listed,
    /// which are finished); false when the engine could not be called, and
    /// nothing was stopped, so the caller stops each alone, reporting its own
    /// failure.
    /// </summary>
    public static bool Together(IReadOnlyList<ParallelTask> tasks, string message)
    {
        if (tasks.Count == 0) return true;
        var ids = new ulong[tasks.Count];
        for (int i = 0; i < ids.Length; i++) ids[i] = (ulong)tasks[i].Id;
        try
        {
            NativeCall.Run(() => NativeArgs.WithUtf8(message, text =>
                NativeArgs.WithIds(ids, slice => Interop.syncpool_tasks_stop(slice, false, text).AsOk())));
            return true;
        }
        catch (Exception e) when (e is not PipelineStoppedException)
        {
            return false;
        }
    }
}
