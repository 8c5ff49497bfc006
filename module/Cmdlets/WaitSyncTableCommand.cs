using System;
using System.Management.Automation;
using SyncPool.Table;

namespace SyncPool.Cmdlets;

/// <summary>
/// Wait-SyncTable: blocks until a key exists (or, with -AfterVersion, until it
/// is written again), woken by the write itself — no polling loop. Ctrl+C
/// interrupts it. On timeout it writes a "SyncPool.WaitTimeout" error and
/// outputs $false, so -ErrorAction SilentlyContinue gives a plain $false.
/// </summary>
[Cmdlet(VerbsLifecycle.Wait, "SyncTable")]
[OutputType(typeof(bool), typeof(object))]
public sealed class WaitSyncTableCommand : SyncPoolCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    public SyncTable Table { get; set; } = null!;

    [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true)]
    [ArgumentCompleter(typeof(SyncTableKeyCompleter))]
    public object Key { get; set; } = null!;

    /// <summary>Seconds to wait; omitted or -1 waits until the key arrives or Ctrl+C.</summary>
    [Parameter]
    [ValidateWaitTimeout]
    public double Timeout { get; set; } = ValidateWaitTimeoutAttribute.Forever;

    /// <summary>Wait for a write newer than this version (from $t.GetVersion(key)).</summary>
    [Parameter]
    public long? AfterVersion { get; set; }

    /// <summary>Output the key's value instead of $true.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var timeout = ValidateWaitTimeoutAttribute.Limit(Timeout) ?? System.Threading.Timeout.InfiniteTimeSpan;
        bool arrived;
        object? value;
        try
        {
            // One wait in the core, woken by the write, by Ctrl+C (the stop signal) or by the table's removal.
            arrived = Table.WaitForValue(Key, AfterVersion, timeout, NativeStopSignal, out value);
        }
        catch (OperationCanceledException)
        {
            throw new PipelineStoppedException();
        }
        catch (Exception e)
        {
            ThrowFailure(e, Key);
            return;
        }
        if (arrived)
        {
            WriteObject(PassThru ? value : true);
            return;
        }
        WriteError(new ErrorRecord(
            new TimeoutException($"Key '{Key}' did not {(AfterVersion is null ? "appear" : "change")} within {Timeout} seconds."),
            "SyncPool.WaitTimeout", ErrorCategory.OperationTimeout, Key));
        WriteObject(false);
    }
}
