using System;
using System.Management.Automation;
using SyncPool.Pool;

namespace SyncPool.Cmdlets;

/// <summary>
/// Internal errors of the task engine (a bug in a worker or timer thread, a
/// callback that failed) are never dropped: the engine fails the tasks they
/// touched and queues a message, and the next parallel cmdlet writes it as a
/// SyncPool.InternalError error.
/// </summary>
internal static class EngineFaults
{
    public static void Report(Cmdlet cmdlet)
    {
        foreach (var fault in TaskEngine.TakeFaults())
        {
            cmdlet.WriteError(new ErrorRecord(new InvalidOperationException($"SyncPool internal error: {fault}"),
                "SyncPool.InternalError", ErrorCategory.NotSpecified, null));
        }
    }
}
