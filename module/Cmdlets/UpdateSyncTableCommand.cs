using System;
using System.Collections.Generic;
using System.Management.Automation;
using SyncPool.Table;

namespace SyncPool.Cmdlets;

/// <summary>
/// Update-SyncTable: changes a key with a scriptblock, atomically. The block
/// gets the current value as $_ and as its first argument, runs outside any
/// lock, and its result is written only if nobody changed the key meanwhile
/// (otherwise it runs again on the newer value).
/// </summary>
[Cmdlet(VerbsData.Update, "SyncTable", SupportsShouldProcess = false)]
[OutputType(typeof(object))]
public sealed class UpdateSyncTableCommand : SyncPoolCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    public SyncTable Table { get; set; } = null!;

    [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(SyncTableKeyCompleter))]
    public object[] Key { get; set; } = [];

    [Parameter(Mandatory = true, Position = 2)]
    public ScriptBlock ScriptBlock { get; set; } = null!;

    /// <summary>Attempts before giving up under heavy contention.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int MaxAttempts { get; set; } = SyncTable.DefaultUpdateAttempts;

    /// <summary>Writes the value that was stored.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var key in Key)
        {
            try
            {
                var stored = Table.Update(key, Invoke, MaxAttempts);
                if (PassThru) WriteObject(stored);
            }
            catch (ScriptFailure failure)
            {
                // The script's own error (its id, category, position), pointing at the key; the key is unchanged.
                ErrorRecordReplay.WriteFromScript(this, failure.Record, key);
            }
            catch (Exception e) when (e is not PipelineStoppedException and not FlowControlException)
            {
                // (break, continue and exit in the block act as they do in ForEach-Object's.)
                WriteFailure(e, key);
            }
        }
    }

    /// <summary>Runs the block on this (the cmdlet's) thread with $_ = the current value.</summary>
    private object? Invoke(object? current)
    {
        var variables = new List<PSVariable> { new("_", current) };
        var results = new System.Collections.ObjectModel.Collection<PSObject>();
        try
        {
            // Its errors, warnings and the rest reach this cmdlet's streams; its output is the new value.
            foreach (var item in ScriptStreams.Called.InvokeWithContext(null, variables, ScriptBlock, current))
                if (!ScriptStreams.TryWrite(this, item)) results.Add(item);
        }
        catch (RuntimeException e) when (e is not PipelineStoppedException)
        {
            throw new ScriptFailure(e.ErrorRecord, e);
        }
        return results.Count switch
        {
            0 => null,
            1 => results[0]?.BaseObject is PSCustomObject ? results[0] : results[0]?.BaseObject ?? results[0],
            _ => ToArray(results),
        };
    }

    private static object?[] ToArray(System.Collections.ObjectModel.Collection<PSObject> results)
    {
        var array = new object?[results.Count];
        for (int i = 0; i < array.Length; i++) array[i] = results[i];
        return array;
    }

    /// <summary>Carries a failure of the user's scriptblock out of the table's retry loop, told apart from the table's own errors.</summary>
    private sealed class ScriptFailure(ErrorRecord record, Exception inner) : Exception(inner.Message, inner)
    {
        public ErrorRecord Record { get; } = record;
    }
}
