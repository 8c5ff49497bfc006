using System;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace SyncPool.Pool;

/// <summary>
/// One warm runspace and what is kept with it between batches so that a
/// batch pays only for running its scripts: the PowerShell instance that runs
/// them (its streams routed to whichever batch runs now), and the directory
/// the runspace is in (changing it reads the mount table on Linux, about a
/// millisecond, so it is only changed when a batch needs another one).
/// </summary>
internal sealed class WorkerRunspace : IDisposable
{
    private BatchCursor? _cursor;

    public WorkerRunspace(Runspace runspace)
    {
        Runspace = runspace;
        RootDriveCheck.TurnOff(runspace);
        Location = runspace.SessionStateProxy.Path.CurrentFileSystemLocation.ProviderPath;
        Output = new PSDataCollection<PSObject>();
        Shell = NewShell();
        IsFullLanguage = runspace.SessionStateProxy.LanguageMode == PSLanguageMode.FullLanguage;
    }

    /// <summary>Scripts run in FullLanguage (not a ConstrainedLanguage caller's runspace): batches may use the trusted drivers.</summary>
    public bool IsFullLanguage { get; }

    public Runspace Runspace { get; }

    /// <summary>Runs every batch's pipeline (commands replaced each time).</summary>
    public PowerShell Shell { get; private set; }

    /// <summary>
    /// Whether the runspace should be replaced after this batch: its shell
    /// had to be replaced (see <see cref="Reuse"/>), so the runspace went
    /// through a stop that did not end cleanly.
    /// </summary>
    public bool Unfit { get; private set; }

    public PSDataCollection<PSObject> Output { get; }

    /// <summary>The file-system directory the runspace is in, as last set or read here.</summary>
    public string? Location { get; private set; }

    /// <summary>The batch whose tasks get what the shell writes.</summary>
    public void Serve(BatchCursor? cursor) => _cursor = cursor;

    /// <summary>A fresh command list for the next pipeline.</summary>
    public PowerShell Reuse()
    {
        if (Shell.InvocationStateInfo.State is PSInvocationState.Stopping or PSInvocationState.Running)
        {
            // A stop whose script sat in a wait Thread.Interrupt cannot end (a
            // native wait in a finally block) and that the interrupt then hit
            // inside PowerShell's own completion leaves the instance Stopping for
            // good: it refuses every later Invoke ("a command is currently
            // stopping"). Its pipeline has ended (Invoke returned), so a new
            // instance takes over the runspace for the rest of the batch. The
            // old one is not disposed: disposing a Stopping instance stops it,
            // and may wait.
            Shell = NewShell();
            Unfit = true;
        }
        Shell.Commands.Clear();
        return Shell;
    }

    private PowerShell NewShell()
    {
        var shell = PowerShell.Create();
        shell.Runspace = Runspace;
        Route(shell, Output);
        return shell;
    }

    /// <summary>Moves the runspace to <paramref name="directory"/> unless it is there already.</summary>
    public void MoveTo(string directory)
    {
        if (string.Equals(Location, directory, StringComparison.Ordinal)) return;
        Runspace.SessionStateProxy.Path.SetLocation(WildcardPattern.Escape(directory));
        Location = directory;
    }

    /// <summary>
    /// Back to the initial state after a batch (about ten times cheaper than
    /// a new runspace), then into the last batch's directory again: the next
    /// batch most likely comes from the same caller, and this runs after the
    /// batch's tasks have ended, not while anyone waits for them.
    /// </summary>
    public void Reset()
    {
        Runspace.ResetRunspaceState();
        string? last = Location;
        // Where the reset left it (the process's directory, usually the caller's too): reading it is cheap, moving is not.
        Location = Runspace.SessionStateProxy.Path.CurrentFileSystemLocation.ProviderPath;
        if (last is null) return;
        try
        {
            MoveTo(last);
        }
        catch (Exception e) when (e is RuntimeException or ArgumentException or InvalidOperationException
                                    or System.IO.IOException or UnauthorizedAccessException)
        {
            // The directory went away meanwhile: the next batch sets its own.
        }
    }

    public void Dispose()
    {
        Shell.Dispose();
        Output.Dispose();
        Runspace.Dispose();
    }

    /// <summary>
    /// Routes every stream to the task whose script is running. Everything is
    /// written on the worker thread during Invoke, so the order of the
    /// records is the order the script wrote them.
    /// </summary>
    private void Route(PowerShell ps, PSDataCollection<PSObject> output)
    {
        ParallelTask? Now() => _cursor?.Current;
        output.DataAdded += (_, _) => { foreach (var item in output.ReadAll()) Now()?.Results.AddOutput(item); };
        var s = ps.Streams;
        s.Error.DataAdded += (_, _) => { foreach (var r in s.Error.ReadAll()) Now()?.Results.AddRecord(TaskStream.Error, TaskErrorPositions.Clean(r)); };
        s.Warning.DataAdded += (_, _) => { foreach (var r in s.Warning.ReadAll()) Now()?.Results.AddRecord(TaskStream.Warning, r); };
        s.Verbose.DataAdded += (_, _) => { foreach (var r in s.Verbose.ReadAll()) Now()?.Results.AddRecord(TaskStream.Verbose, r); };
        s.Debug.DataAdded += (_, _) => { foreach (var r in s.Debug.ReadAll()) Now()?.Results.AddRecord(TaskStream.Debug, r); };
        s.Information.DataAdded += (_, _) => { foreach (var r in s.Information.ReadAll()) Now()?.Results.AddRecord(TaskStream.Information, r); };
        s.Progress.DataAdded += (_, _) => { foreach (var r in s.Progress.ReadAll()) Now()?.Results.AddRecord(TaskStream.Progress, r); };
    }
}
