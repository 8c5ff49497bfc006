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
    /// <paramref name="message"/>; false when the set could not be made (a
    /// task was removed meanwhile: a wait refuses removed tasks) and nothing
    /// was stopped, so the caller stops each alone, reporting its own failure.
    /// </summary>
    public static bool Together(IReadOnlyList<ParallelTask> tasks, string message)
    {
        var listed = new List<ParallelTask>(tasks.Count);
        try
        {
            foreach (var task in tasks)
            {
                // A task no longer listed was removed, which only a finished task can be.
                if (NativeCall.Run(() => task.Native.Settle(false)).was_listed.Is) listed.Add(task);
            }
            if (listed.Count == 0) return true;
            using var set = TaskSet.Create(listed);
            set.StopUnfinished(timedOut: false, message);
            return true;
        }
        catch (Exception e) when (e is not PipelineStoppedException)
        {
            return false;
        }
    }
}
