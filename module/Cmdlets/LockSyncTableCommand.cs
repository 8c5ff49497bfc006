using System;
using System.Collections.Generic;
using System.Management.Automation;
using SyncPool.Table;

namespace SyncPool.Cmdlets;

/// <summary>
/// Lock-SyncTable: runs a scriptblock while holding one key's lock, the
/// cmdlet form of $t.Lock(key, { ... }). The wait for the lock blocks in the
/// core and is interrupted by Ctrl+C (StopProcessing's signal); the block
/// runs in the caller's scope (variables it sets stay set, as with
/// ForEach-Object) and its output is written. The lock is released however
/// the block ends; when the block failed and the release failed too (a Redis
/// lock the server lost meanwhile), both are reported, the release's first.
/// </summary>
[Cmdlet(VerbsCommon.Lock, "SyncTable")]
[OutputType(typeof(object))]
public sealed class LockSyncTableCommand : SyncPoolCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public SyncTable Table { get; set; } = null!;

    [Parameter(Mandatory = true, Position = 1)]
    [ArgumentCompleter(typeof(SyncTableKeyCompleter))]
    public object Key { get; set; } = null!;

    [Parameter(Mandatory = true, Position = 2)]
    public ScriptBlock ScriptBlock { get; set; } = null!;

    /// <summary>Seconds to wait for the lock; omitted or -1 waits until it is free or Ctrl+C.</summary>
    [Parameter]
    [ValidateWaitTimeout]
    public double Timeout { get; set; } = ValidateWaitTimeoutAttribute.Forever;

    protected override void ProcessRecord()
    {
        var timeout = ValidateWaitTimeoutAttribute.Limit(Timeout) ?? System.Threading.Timeout.InfiniteTimeSpan;
        var written = new List<PSObject>();
        try
        {
            // The wait is the core's, woken by the release, Ctrl+C or the table's removal; the block runs on this thread.
            Table.Lock(Key, () => InvokeCommand.InvokeScript(false, ScriptStreams.DotSourced, null, ScriptBlock, written), timeout, NativeStopSignal);
        }
        catch (OperationCanceledException)
        {
            throw new PipelineStoppedException();
        }
        catch (TimeoutException)
        {
            WriteError(new ErrorRecord(
                new TimeoutException($"Could not lock key '{Key}' within {Timeout} seconds: another holder kept it. The scriptblock did not run."),
                "SyncPool.LockTimeout", ErrorCategory.OperationTimeout, Key));
            return;
        }
        catch (Exception e) when (ScriptStreams.IsTheBlocks(e))
        {
            // A throw, break, continue or exit in the block: what it wrote first,
            // a release that failed too (a Redis lock the server lost), then the same effect.
            WriteAll(written, e);
            throw;
        }
        catch (Exception e) when (e is not PipelineStoppedException)
        {
            // The table's own failures (removed table, bad key, or a Redis lock
            // lost while the block ran): the block's output first.
            WriteAll(written, e);
            ThrowFailure(e, Key);
            return;
        }
        WriteAll(written);
    }

    /// <summary>
    /// The block's output, and its error and warning records through this
    /// cmdlet (see <see cref="ScriptStreams"/>); then, when the call ended with
    /// <paramref name="failure"/> and the release failed too, the release's error.
    /// </summary>
    private void WriteAll(List<PSObject> written, Exception? failure = null)
    {
        foreach (var item in written)
            if (!ScriptStreams.TryWrite(this, item)) WriteObject(item);
        if (failure != null && SyncTable.ReleaseFailureOf(failure) is { } releaseFailure) WriteFailure(releaseFailure, Key);
    }
}
