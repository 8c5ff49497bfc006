using System;
using System.Management.Automation;
using System.Reflection;

namespace SyncPool.Jobs;

/// <summary>
/// Sets a job's state together with its reason (JobStateInfo.Reason: why a
/// task failed, timed out or was stopped), which Job only offers internally;
/// the protected SetJobState(JobState) takes no reason. Start-ThreadJob sets
/// it the same way. Without the internal overload (a PowerShell that lacks
/// it) the state is still set, with no reason.
/// </summary>
internal static class JobStateSetter
{
    private static readonly MethodInfo? WithReason = typeof(Job).GetMethod(
        "SetJobState", BindingFlags.Instance | BindingFlags.NonPublic, binder: null, [typeof(JobState), typeof(Exception)], modifiers: null);

    /// <summary>True if it was set with its reason; false if the caller must set it without one.</summary>
    public static bool TrySet(Job job, JobState state, Exception? reason)
    {
        if (WithReason is null) return false;
        try
        {
            WithReason.Invoke(job, [state, reason]);
            return true;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            // The state change itself was refused (InvalidJobStateException): say so, as a direct call would.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
    }
}
