using System;
using System.Collections;
using System.Linq;
using System.Management.Automation;
using SyncPool.Pool;

namespace SyncPool.Cmdlets;

/// <summary>
/// New-ParallelPool: creates a reusable, named pool that Start-ParallelTask
/// -Pool runs tasks in: a queue with its own throttle, whose runspaces are set
/// up with its modules and functions (once each, then kept warm) and whose
/// tasks start with its variables. It lives until Remove-ParallelPool (or
/// Remove-Module SyncPool, or the end of the process).
/// </summary>
[Cmdlet(VerbsCommon.New, "ParallelPool")]
[OutputType(typeof(TaskPool))]
public sealed class NewParallelPoolCommand : SyncPoolCmdlet
{
    /// <summary>A name to find the pool by (Get-ParallelPool -Name, Start-ParallelTask -Pool name). Unique among live pools.</summary>
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    /// <summary>How many tasks run at once. Default: CPU count, at least 5, at most 16 (the engine decides).</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int ThrottleLimit { get; set; }

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
        EngineFaults.Report(this);
        try
        {
            var settings = ParallelSettings.Build(this, ImportModule, ImportFunction);
            var variables = ParallelSettings.Variables(Variable).ToList();
            var timeout = TimeoutSeconds is { } s ? TimeSpan.FromSeconds(s) : (TimeSpan?)null;
            WriteObject(TaskPool.Create(Name, ThrottleLimit, perCall: false, settings, variables, timeout));
        }
        catch (SyncPoolException e) when (e.Code.IsNameTaken)
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentException(e.Message, e), "SyncPool.PoolExists", ErrorCategory.ResourceExists, Name));
        }
        catch (SetupItemNotFoundException e)
        {
            ThrowTerminatingError(e.ToErrorRecord());
        }
        catch (Exception e) when (e is not PipelineStoppedException)
        {
            ThrowFailure(e, Name);
        }
    }
}
