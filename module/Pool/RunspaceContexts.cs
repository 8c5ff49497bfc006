using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace SyncPool.Pool;

/// <summary>
/// The runspaces behind the engine's contexts. The engine decides which
/// context a batch runs in, when a new one is needed and when an idle one
/// expires; this holds the runspace for each context id, and builds it from
/// the settings its key stands for.
/// </summary>
/// <remarks>
/// A key is one set of runspace settings (modules, functions, language
/// mode): pools and calls with equal settings share warm runspaces.
/// Variables are not part of it: they are set for each batch, so a call
/// with its own -Variable values still gets a warm runspace.
/// </remarks>
internal static class RunspaceContexts
{
    private static readonly ConcurrentDictionary<string, ulong> KeysBySignature = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<ulong, RunspaceSettings> SettingsByKey = new();
    private static readonly ConcurrentDictionary<ulong, Runspace> Runspaces = new();
    private static long _lastKey;

    public static ulong KeyFor(RunspaceSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return KeysBySignature.GetOrAdd(settings.Signature, _ =>
        {
            ulong key = (ulong)System.Threading.Interlocked.Increment(ref _lastKey);
            SettingsByKey[key] = settings;
            return key;
        });
    }

    /// <summary>The runspace of <paramref name="context"/>, opened on the calling (worker) thread if it has none yet.</summary>
    public static Runspace Get(ulong context, ulong key)
    {
        if (Runspaces.TryGetValue(context, out var existing)) return existing;
        if (!SettingsByKey.TryGetValue(key, out var settings))
            throw new InvalidOperationException($"SyncPool internal error: no runspace settings are known for context key {key}.");
        var runspace = RunspaceFactory.CreateRunspace(BuildSessionState(settings));
        runspace.ThreadOptions = PSThreadOptions.UseCurrentThread;
        runspace.Name = $"SyncPool:Context{context}";
        try
        {
            runspace.Open();
        }
        catch
        {
            runspace.Dispose();
            throw;
        }
        Runspaces[context] = runspace;
        return runspace;
    }

    /// <summary>Closes the runspace of <paramref name="context"/> (expired, discarded or shut down).</summary>
    public static void Dispose(ulong context)
    {
        if (Runspaces.TryRemove(context, out var runspace)) runspace.Dispose();
    }

    /// <summary>The session every runspace with these settings starts with (and is reset to).</summary>
    internal static InitialSessionState BuildSessionState(RunspaceSettings settings)
    {
        var iss = InitialSessionState.CreateDefault2();
        iss.ThreadOptions = PSThreadOptions.UseCurrentThread;
        if (settings.ConstrainedLanguage) iss.LanguageMode = PSLanguageMode.ConstrainedLanguage;
        // A module that fails to import fails the batch with the reason, rather
        // than leaving its commands silently missing.
        iss.ThrowOnRunspaceOpenError = true;
        foreach (var (name, definition) in settings.Functions)
            iss.Commands.Add(new SessionStateFunctionEntry(name, definition));
        var modules = new List<string>();
        if (settings.SyncPoolModulePath is { Length: > 0 } own) modules.Add(own);
        modules.AddRange(settings.Modules);
        if (modules.Count > 0) iss.ImportPSModule(modules.ToArray());
        return iss;
    }
}
