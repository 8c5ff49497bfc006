using System;
using System.Collections;
using System.Management.Automation;
using SyncPool.Pool;

namespace SyncPool.Cmdlets;

/// <summary>
/// New-ParallelPool: creates a reusable pool of worker runspaces that
/// Start-ParallelTask -Pool runs tasks in. Its throttle, modules, functions
/// and variables are fixed for its lifetime; it lives until Remove-ParallelPool
/// (or Remove-Module SyncPool, or the end of the process).
/// </summary>
[Cmdlet(VerbsCommon.New, "ParallelPool")]
[OutputType(typeof(TaskPool))]
public sealed class NewParallelPoolCommand : SyncPoolCmdlet
{
    /// <summary>A name to find the pool by (Get-ParallelPool -Name, Start-ParallelTask -Pool name). Unique among live pools.</summary>
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    /// <summary>How many tasks run at once: the number of worker runspaces. Default: CPU count, at least 5, at most 16.</summary>
    [Parameter]
    [ValidateRange(1, ParallelDefaults.MaxThrottleLimit)]
    public int ThrottleLimit { get; set; } = ParallelDefaults.ThrottleLimit;

    /// <summary>Modules (names or paths) every worker runspace imports before its first task.</summary>
    [Parameter]
    [ValidateNotNull]
    public string[]? ImportModule { get; set; }

    /// <summary>Functions of the caller's session (wildcards allowed) defined in every worker runspace.</summary>
    [Parameter]
    [ValidateNotNull]
    public string[]? ImportFunction { get; set; }

    /// <summary>Variables (name = value) every task starts with. Values are shared by reference, e.g. a SyncTable.</summary>
    [Parameter]
    [ValidateNotNull]
    public IDictionary? Variable { get; set; }

    /// <summary>The timeout of each task, in seconds from the moment it starts, unless Start-ParallelTask -TimeoutSeconds says otherwise.</summary>
    [Parameter]
    [ValidatePositiveSeconds]
    public double? TimeoutSeconds { get; set; }

    protected override void EndProcessing()
    {
        if (Name is not null && PoolRegistry.FindByName(Name) is { } existing)
        {
            ThrowTerminatingError(new ErrorRecord(
                new ArgumentException($"A parallel pool named '{Name}' already exists ({existing}). Use it with -Pool '{Name}', or remove it with Remove-ParallelPool first."),
                "SyncPool.PoolExists", ErrorCategory.ResourceExists, Name));
        }
        TaskPool? pool = null;
        try
        {
            var settings = ParallelSettings.Build(this, ImportModule, ImportFunction, Variable);
            pool = RunspaceWorker.CreatePool(ThrottleLimit, settings, Name);
            pool.DefaultTaskTimeout = TimeoutSeconds is { } s ? TimeSpan.FromSeconds(s) : null;
            WriteObject(pool);
        }
        catch (ItemNotFoundException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, "SyncPool.NotFound", ErrorCategory.ObjectNotFound, Name));
        }
        catch (Exception e) when (e is not PipelineStoppedException)
        {
            pool?.Dispose();
            ThrowFailure(e, Name);
        }
    }
}
