using System.Management.Automation;

namespace SyncPool.Cmdlets;

/// <summary>
/// The streams of a user's scriptblock that a compiled cmdlet runs. Invoked
/// through the public APIs, a block writes its errors and warnings past the
/// cmdlet, where 2>&amp;1, -ErrorVariable and -WarningVariable cannot see
/// them; run through one of these wrappers, those two streams are merged
/// into its output, and <see cref="TryWrite"/> sends each record back to its
/// stream through the cmdlet (so a record object the block outputs as data
/// goes there too). Verbose, debug and information records are left to the
/// host as the block's own preferences decide (Write-Verbose -Verbose,
/// Write-Information -InformationAction Continue), since the cmdlet's
/// preference would filter them again.
/// </summary>
internal static class ScriptStreams
{
    /// <summary>
    /// Dot-sources the block given as the first argument (the caller's scope,
    /// as ForEach-Object runs its block) and adds each object it writes, as it
    /// writes it, to the list given as the second argument: what the block
    /// wrote before it threw, broke out of a loop or exited is kept.
    /// </summary>
    internal static readonly ScriptBlock DotSourced = ScriptBlock.Create(". $args[0] 2>&1 3>&1 | & { param($sink) process { $sink.Add($_) } } $args[1]");

    /// <summary>Calls the block given as the first argument, in a scope of its own, with the second argument.</summary>
    internal static readonly ScriptBlock Called = ScriptBlock.Create("& $args[0] $args[1] 2>&1 3>&1");

    /// <summary>The exceptions that are the block's own doing, passed on as they are: its errors, and break, continue and exit.</summary>
    internal static bool IsTheBlocks(System.Exception e) => e is (RuntimeException and not PipelineStoppedException) or FlowControlException;

    /// <summary>Writes <paramref name="item"/> to its stream if it is a record of one; false for output.</summary>
    internal static bool TryWrite(Cmdlet cmdlet, PSObject? item)
    {
        switch (item?.BaseObject)
        {
            case ErrorRecord error: cmdlet.WriteError(error); return true;
            case WarningRecord warning: cmdlet.WriteWarning(warning.Message); return true;
            default: return false;
        }
    }
}
