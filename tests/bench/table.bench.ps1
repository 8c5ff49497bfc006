<#
.SYNOPSIS
    PowerShell-level benchmarks of SyncTable against [hashtable]::Synchronized(@{}).

.DESCRIPTION
    Measures, inside one PowerShell process (and two fresh child processes per
    memory sample), what the SyncTable issue sets targets for:

      1. get + set from one runspace ($t[$k] = $i; $null = $t[$k]):
         ops/s of SyncTable divided by ops/s of a synchronized hashtable, target >= 0.7.
      2. Runspaces (default 4, one RunspacePool) each incrementing one key N times:
         SyncTable.Increment('x') against a synchronized hashtable updated under
         [Threading.Monitor]::Enter($h.SyncRoot); throughput ratio target >= 1.5.
         Also counts the updates the naive $h.x++ loses; Increment must lose none
         (a wrong SyncTable total is printed as FAIL and makes the script exit 1).
      3. Memory of 1,000,000 entries (keys "k<i>", int values), each structure
         filled in its own fresh pwsh: working-set growth after a full GC
         (target: SyncTable / hashtable <= 1.0) and GC.GetTotalMemory growth.

    Every timing is the best of -Runs runs; every ratio compares two numbers from
    this same run. Results are printed and written as markdown to
    <ResultsDir>/table-<yyyyMMdd-HHmmss>.md and <ResultsDir>/table-latest.md.

.PARAMETER ModulePath
    The staged module folder (out/SyncPool) or its manifest.

.PARAMETER ResultsDir
    Folder for the markdown results (created if missing).

.PARAMETER GetSetOps
    Loop iterations of the one-runspace get+set test (each is one set and one get).

.PARAMETER KeyCount
    Distinct keys the get+set loop cycles through.

.PARAMETER Runspaces
    Runspaces incrementing the shared key at once.

.PARAMETER IncrementsPerRunspace
    Increments each runspace makes per measured run.

.PARAMETER MemoryEntries
    Entries for the memory comparison.

.PARAMETER MemoryRuns
    Child processes per structure for the memory comparison (the median is reported).

.PARAMETER Runs
    Timed runs per measurement (the best is reported).

.EXAMPLE
    pwsh -NoProfile -File tests/bench/table.bench.ps1 -ModulePath ./out/SyncPool -ResultsDir ./tests/bench/results

    What the build's Bench task runs (the issue's sizes).

.EXAMPLE
    pwsh -NoProfile -File tests/bench/table.bench.ps1 -ModulePath ./out/SyncPool -ResultsDir /tmp/bench -GetSetOps 20000 -IncrementsPerRunspace 10000 -MemoryEntries 100000 -MemoryRuns 1

    A quick run with smaller sizes.
#>
#Requires -Version 7.4
[CmdletBinding()]
param(
    [Parameter(Mandatory)][string]$ModulePath,
    [Parameter(Mandatory)][string]$ResultsDir,
    [ValidateRange(1, 1000000000)][int]$GetSetOps = 200000,
    [ValidateRange(1, 1000000000)][int]$KeyCount = 1000,
    [ValidateRange(1, 64)][int]$Runspaces = 4,
    [ValidateRange(1, 1000000000)][int]$IncrementsPerRunspace = 100000,
    [ValidateRange(1, 1000000000)][int]$MemoryEntries = 1000000,
    [ValidateRange(1, 10)][int]$MemoryRuns = 3,
    [ValidateRange(1, 10)][int]$Runs = 3
)

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$ModulePath = (Resolve-Path -LiteralPath $ModulePath).ProviderPath
$ResultsDir = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($ResultsDir)
$null = New-Item -ItemType Directory -Force -Path $ResultsDir
Import-Module $ModulePath -Force


# ---- helpers ----------------------------------------------------------------------

. (Join-Path $PSScriptRoot 'BenchSupport.ps1')

# Runs $MeasureBody $MeasureRuns times and returns the best and median wall time in
# seconds. The body runs in a child scope of this function, so these parameter
# names are deliberately unusual (the body sees the script's variables).
function Measure-Best {
    param(
        [Parameter(Mandatory)][scriptblock]$MeasureBody,
        [int]$MeasureRuns = 3
    )
    $measureTimes = [System.Collections.Generic.List[double]]::new()
    for ($measureRun = 0; $measureRun -lt $MeasureRuns; $measureRun++) {
        [GC]::Collect()
        [GC]::WaitForPendingFinalizers()
        $measureWatch = [System.Diagnostics.Stopwatch]::StartNew()
        $null = & $MeasureBody
        $measureWatch.Stop()
        $measureTimes.Add($measureWatch.Elapsed.TotalSeconds)
    }
    [pscustomobject]@{
        Best   = [double]($measureTimes | Measure-Object -Minimum).Minimum
        Median = Get-Median $measureTimes.ToArray()
        Times  = $measureTimes.ToArray()
    }
}

# The command line that starts a fresh pwsh like this one. Under 'dotnet tool run pwsh'
# the process is the dotnet host, which needs pwsh.dll as its first argument.
function Get-PwshCommand {
    $exe = [Environment]::ProcessPath
    $prefix = @()
    if ([System.IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') {
        $dll = Join-Path $PSHOME 'pwsh.dll'
        if (-not (Test-Path -LiteralPath $dll)) { throw "Running under '$exe' but '$dll' was not found; cannot start a child pwsh." }
        $prefix = @($dll)
    }
    [pscustomobject]@{ File = $exe; Prefix = $prefix }
}

# ---- 1. get + set from one runspace -------------------------------------------------

# The same loop for both tables (parameters are locals: fast, and equal for both).
function Invoke-GetSet {
    param($Table, [string[]]$Keys, [int]$Ops)
    $keyTotal = $Keys.Length
    for ($i = 0; $i -lt $Ops; $i++) {
        $k = $Keys[$i % $keyTotal]
        $Table[$k] = $i
        $null = $Table[$k]
    }
}

function Invoke-GetSetBench {
    Write-Report "## 1. get + set from one runspace"
    Write-Report ''
    Write-Report ("Loop of $GetSetOps iterations of " + '`$t[$k] = $i; $null = $t[$k]`' + " over $KeyCount keys (""host<n>"") that already exist; best of $Runs runs. SyncTable made by New-SyncTable (as users get it).")
    Write-Report ''

    $keys = [string[]]::new($KeyCount)
    for ($i = 0; $i -lt $KeyCount; $i++) { $keys[$i] = "host$i" }
    $sync = New-SyncTable
    $hash = [hashtable]::Synchronized(@{})
    foreach ($k in $keys) { $sync[$k] = 0; $hash[$k] = 0 }

    # Warm-up: compile the loop and the indexer call sites for both.
    $warmOps = [math]::Min($GetSetOps, 5000)
    Invoke-GetSet -Table $sync -Keys $keys -Ops $warmOps
    Invoke-GetSet -Table $hash -Keys $keys -Ops $warmOps

    $syncTime = Measure-Best -MeasureRuns $Runs -MeasureBody { Invoke-GetSet -Table $sync -Keys $keys -Ops $GetSetOps }
    $hashTime = Measure-Best -MeasureRuns $Runs -MeasureBody { Invoke-GetSet -Table $hash -Keys $keys -Ops $GetSetOps }

    $syncRate = 2.0 * $GetSetOps / $syncTime.Best
    $hashRate = 2.0 * $GetSetOps / $hashTime.Best
    $ratio = $syncRate / $hashRate

    if ($sync.Count -ne $KeyCount) { Add-Failure "SyncTable has $($sync.Count) keys after the get+set loop; expected $KeyCount." }
    $lastKey = $keys[($GetSetOps - 1) % $KeyCount]
    if ([long]$sync[$lastKey] -ne ($GetSetOps - 1)) { Add-Failure "SyncTable['$lastKey'] is $($sync[$lastKey]); expected $($GetSetOps - 1)." }

    Write-Report '| table | best (s) | median (s) | ops/s (get+set, best) |'
    Write-Report '|---|---|---|---|'
    Write-Report "| SyncTable | $(Format-Number $syncTime.Best 'N3') | $(Format-Number $syncTime.Median 'N3') | $(Format-Number $syncRate 'N0') |"
    Write-Report "| [hashtable]::Synchronized | $(Format-Number $hashTime.Best 'N3') | $(Format-Number $hashTime.Median 'N3') | $(Format-Number $hashRate 'N0') |"
    Write-Report ''
    Write-Report '| ratio | value | target | verdict |'
    Write-Report '|---|---|---|---|'
    Write-Report "| ops/s SyncTable / hashtable | $(Format-Number $ratio 'N3') | >= 0.7 | $(Get-Verdict $ratio 0.7 'AtLeast') |"
    Write-Report ''
    $sync.Dispose()
}

# ---- 2. several runspaces incrementing one key ----------------------------------------

$script:IncrementSyncTable = @'
param($t, $n, $ready, $gate)
$null = $ready.Signal()
$gate.Wait()
for ($i = 0; $i -lt $n; $i++) { $null = $t.Increment('x') }
'@

$script:IncrementLocked = @'
param($h, $n, $ready, $gate)
$null = $ready.Signal()
$gate.Wait()
for ($i = 0; $i -lt $n; $i++) {
    [Threading.Monitor]::Enter($h.SyncRoot)
    try { $h.x++ } finally { [Threading.Monitor]::Exit($h.SyncRoot) }
}
'@

$script:IncrementNaive = @'
param($h, $n, $ready, $gate)
$null = $ready.Signal()
$gate.Wait()
for ($i = 0; $i -lt $n; $i++) { $h.x++ }
'@

# Starts $Workers copies of $Script on $Pool, lets them all reach the start line, then
# times from the start signal until the last one has finished. Returns seconds.
function Invoke-Contended {
    param(
        [Parameter(Mandatory)][System.Management.Automation.Runspaces.RunspacePool]$Pool,
        [Parameter(Mandatory)][string]$Script,
        $Target,
        [int]$Workers,
        [int]$Count
    )
    $ready = [System.Threading.CountdownEvent]::new($Workers)
    $gate = [System.Threading.ManualResetEventSlim]::new($false)
    $jobs = [System.Collections.Generic.List[object]]::new()
    $elapsed = [double]::NaN
    try {
        for ($w = 0; $w -lt $Workers; $w++) {
            $ps = [powershell]::Create()
            $ps.RunspacePool = $Pool
            $null = $ps.AddScript($Script).AddArgument($Target).AddArgument($Count).AddArgument($ready).AddArgument($gate)
            $jobs.Add([pscustomobject]@{ PowerShell = $ps; Handle = $ps.BeginInvoke() })
        }
        if (-not $ready.Wait(60000)) { throw "The $Workers worker runspaces did not all start within 60 s." }
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $gate.Set()
        foreach ($job in $jobs) { $null = $job.PowerShell.EndInvoke($job.Handle) }
        $watch.Stop()
        $elapsed = $watch.Elapsed.TotalSeconds
        foreach ($job in $jobs) {
            if ($job.PowerShell.HadErrors) {
                throw "A worker runspace reported errors: $(($job.PowerShell.Streams.Error | Out-String).Trim())"
            }
        }
    }
    finally {
        $gate.Set()
        foreach ($job in $jobs) {
            if (-not $job.Handle.IsCompleted) { $job.PowerShell.Stop() }
            $job.PowerShell.Dispose()
        }
        $ready.Dispose()
        $gate.Dispose()
    }
    $elapsed
}

function Invoke-ContentionBench {
    $total = [long]$Runspaces * $IncrementsPerRunspace
    Write-Report "## 2. $Runspaces runspaces incrementing one key"
    Write-Report ''
    Write-Report "A RunspacePool of $Runspaces; each runspace increments key 'x' $IncrementsPerRunspace times ($total in all). All runspaces wait on one start signal; the time runs from that signal until the last finishes. Best of $Runs runs."
    Write-Report ''

    $pool = [runspacefactory]::CreateRunspacePool($Runspaces, $Runspaces)
    $pool.Open()
    try {
        $sync = New-SyncTable
        $locked = [hashtable]::Synchronized(@{})
        $naive = [hashtable]::Synchronized(@{})

        # Warm-up: every runspace of the pool opened, every script compiled.
        $warm = [math]::Min($IncrementsPerRunspace, 1000)
        $sync['x'] = 0; $locked['x'] = 0; $naive['x'] = 0
        $null = Invoke-Contended -Pool $pool -Script $script:IncrementSyncTable -Target $sync -Workers $Runspaces -Count $warm
        $null = Invoke-Contended -Pool $pool -Script $script:IncrementLocked -Target $locked -Workers $Runspaces -Count $warm
        $null = Invoke-Contended -Pool $pool -Script $script:IncrementNaive -Target $naive -Workers $Runspaces -Count $warm

        $syncTimes = [System.Collections.Generic.List[double]]::new()
        $lockedTimes = [System.Collections.Generic.List[double]]::new()
        $naiveTimes = [System.Collections.Generic.List[double]]::new()
        $syncTotals = [System.Collections.Generic.List[long]]::new()
        $lockedTotals = [System.Collections.Generic.List[long]]::new()
        $naiveLost = [System.Collections.Generic.List[long]]::new()

        # Interleaved, so slow drift of the machine affects all three alike.
        for ($run = 0; $run -lt $Runs; $run++) {
            $sync['x'] = 0
            [GC]::Collect()
            $syncTimes.Add((Invoke-Contended -Pool $pool -Script $script:IncrementSyncTable -Target $sync -Workers $Runspaces -Count $IncrementsPerRunspace))
            $syncTotals.Add([long]$sync['x'])

            $locked['x'] = 0
            [GC]::Collect()
            $lockedTimes.Add((Invoke-Contended -Pool $pool -Script $script:IncrementLocked -Target $locked -Workers $Runspaces -Count $IncrementsPerRunspace))
            $lockedTotals.Add([long]$locked['x'])

            $naive['x'] = 0
            [GC]::Collect()
            $naiveTimes.Add((Invoke-Contended -Pool $pool -Script $script:IncrementNaive -Target $naive -Workers $Runspaces -Count $IncrementsPerRunspace))
            $naiveLost.Add($total - [long]$naive['x'])
        }
    }
    finally {
        $pool.Close()
        $pool.Dispose()
    }

    $syncBest = [double]($syncTimes | Measure-Object -Minimum).Minimum
    $lockedBest = [double]($lockedTimes | Measure-Object -Minimum).Minimum
    $naiveBest = [double]($naiveTimes | Measure-Object -Minimum).Minimum
    $syncRate = $total / $syncBest
    $lockedRate = $total / $lockedBest
    $naiveRate = $total / $naiveBest
    $ratio = $syncRate / $lockedRate

    $wrongSync = @($syncTotals | Where-Object { $_ -ne $total })
    $wrongLocked = @($lockedTotals | Where-Object { $_ -ne $total })
    $syncExact = if ($wrongSync.Count -eq 0) { "exact ($total every run)" } else { "FAIL: totals $($syncTotals -join ', '), expected $total" }
    $lostText = ($naiveLost | ForEach-Object { Format-Number $_ 'N0' }) -join ' / '
    $lostMedian = Get-Median ([double[]]$naiveLost.ToArray())

    Write-Report '| variant | best (s) | median (s) | increments/s (best) | result |'
    Write-Report '|---|---|---|---|---|'
    Write-Report ('| SyncTable `$t.Increment(''x'')` | ' + "$(Format-Number $syncBest 'N3') | $(Format-Number (Get-Median $syncTimes.ToArray()) 'N3') | $(Format-Number $syncRate 'N0') | $syncExact |")
    Write-Report ('| hashtable, `Monitor.Enter($h.SyncRoot); $h.x++` | ' + "$(Format-Number $lockedBest 'N3') | $(Format-Number (Get-Median $lockedTimes.ToArray()) 'N3') | $(Format-Number $lockedRate 'N0') | $(if ($wrongLocked.Count -eq 0) { 'exact' } else { "totals $($lockedTotals -join ', ')" }) |")
    Write-Report ('| hashtable, naive `$h.x++` | ' + "$(Format-Number $naiveBest 'N3') | $(Format-Number (Get-Median $naiveTimes.ToArray()) 'N3') | $(Format-Number $naiveRate 'N0') | lost $lostText of $total per run |")
    Write-Report ''
    Write-Report '| ratio / check | value | target | verdict |'
    Write-Report '|---|---|---|---|'
    Write-Report "| throughput SyncTable / locked hashtable | $(Format-Number $ratio 'N2') | >= 1.5 | $(Get-Verdict $ratio 1.5 'AtLeast') |"
    Write-Report "| lost updates, SyncTable.Increment (worst run) | $(Format-Number (($syncTotals | ForEach-Object { [math]::Abs($total - $_) } | Measure-Object -Maximum).Maximum) 'N0') | 0 | $(if ($wrongSync.Count -eq 0) { 'met' } else { 'FAIL' }) |"
    Write-Report ('| lost updates, naive `$h.x++` (median) | ' + "$(Format-Number $lostMedian 'N0') | (what Increment avoids) | info |")
    Write-Report ''
    if ($wrongSync.Count -gt 0) { Add-Failure "SyncTable.Increment lost or invented updates: totals $($syncTotals -join ', '), expected $total each run." }
    if ($wrongLocked.Count -gt 0) { Add-Failure "The Monitor-locked hashtable totals were $($lockedTotals -join ', '), expected $total (the benchmark itself is broken)." }
    $sync.Dispose()
}

# ---- 3. memory of many entries, each in a fresh pwsh ------------------------------------

$script:MemoryChild = @'
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
Import-Module '__MODULE__' -Force
$kind = '__KIND__'
$entries = __ENTRIES__
# Warm both paths (native library loaded, loop and indexer compiled) before the baseline.
$w1 = [hashtable]::Synchronized(@{})
$w2 = New-SyncTable
for ($i = 0; $i -lt 2000; $i++) { $w1["k$i"] = $i; $w2["k$i"] = $i }
$w2.Dispose()
$w1 = $null
$w2 = $null
Invoke-Settle
$proc = [System.Diagnostics.Process]::GetCurrentProcess()
$proc.Refresh()
$ws0 = $proc.WorkingSet64
$private0 = $proc.PrivateMemorySize64
$managed0 = [GC]::GetTotalMemory($true)
if ($kind -eq 'hashtable') { $table = [hashtable]::Synchronized(@{}) } else { $table = New-SyncTable }
for ($i = 0; $i -lt $entries; $i++) { $table["k$i"] = $i }
Invoke-Settle
$managed1 = [GC]::GetTotalMemory($true)
$proc.Refresh()
$result = [ordered]@{
    Kind       = $kind
    Count      = $table.Count
    Sample     = $table["k$($entries - 1)"]
    WorkingSet = $proc.WorkingSet64 - $ws0
    Private    = $proc.PrivateMemorySize64 - $private0
    Managed    = $managed1 - $managed0
}
[pscustomobject]$result | ConvertTo-Json -Compress
'@

function Invoke-MemoryChild {
    param([string]$Kind, [int]$Entries)
    $pwsh = Get-PwshCommand
    $text = $script:MemoryChild.Replace('__MODULE__', $ModulePath.Replace("'", "''")).Replace('__KIND__', $Kind).Replace('__ENTRIES__', [string]$Entries)
    $encoded = [Convert]::ToBase64String([System.Text.Encoding]::Unicode.GetBytes($text))
    $childArgs = @($pwsh.Prefix) + @('-NoProfile', '-NonInteractive', '-OutputFormat', 'Text', '-EncodedCommand', $encoded)
    $exe = $pwsh.File
    $output = & $exe @childArgs
    if ($LASTEXITCODE -ne 0) { throw "The $Kind memory child exited with $LASTEXITCODE. Output: $($output -join [Environment]::NewLine)" }
    $json = @($output | Where-Object { $_ -is [string] -and $_.TrimStart().StartsWith('{') }) | Select-Object -Last 1
    if (-not $json) { throw "The $Kind memory child printed no result. Output: $($output -join [Environment]::NewLine)" }
    $json | ConvertFrom-Json
}

function Invoke-MemoryBench {
    Write-Report "## 3. memory of $(Format-Number $MemoryEntries 'N0') entries"
    Write-Report ''
    Write-Report "Each structure is filled with keys ""k<i>"" and int values by ``for`` loop in a fresh child pwsh (``$([Environment]::ProcessPath)``, module imported and both paths warmed before the baseline), then measured after a full compacting GC: process working set growth (managed + native) and GC.GetTotalMemory growth. Median of $MemoryRuns child process(es) per structure, alternating."
    Write-Report ''

    $hash = [System.Collections.Generic.List[object]]::new()
    $sync = [System.Collections.Generic.List[object]]::new()
    for ($run = 0; $run -lt $MemoryRuns; $run++) {
        $hash.Add((Invoke-MemoryChild -Kind 'hashtable' -Entries $MemoryEntries))
        $sync.Add((Invoke-MemoryChild -Kind 'synctable' -Entries $MemoryEntries))
    }
    foreach ($r in @($hash) + @($sync)) {
        if ([long]$r.Count -ne $MemoryEntries -or [long]$r.Sample -ne ($MemoryEntries - 1)) {
            Add-Failure "The $($r.Kind) child ended with $($r.Count) entries (last value $($r.Sample)); expected $MemoryEntries (last value $($MemoryEntries - 1))."
        }
    }

    $mb = 1024.0 * 1024.0
    $hashWs = Get-Median ([double[]]@($hash | ForEach-Object { [double]$_.WorkingSet }))
    $syncWs = Get-Median ([double[]]@($sync | ForEach-Object { [double]$_.WorkingSet }))
    $hashPrivate = Get-Median ([double[]]@($hash | ForEach-Object { [double]$_.Private }))
    $syncPrivate = Get-Median ([double[]]@($sync | ForEach-Object { [double]$_.Private }))
    $hashManaged = Get-Median ([double[]]@($hash | ForEach-Object { [double]$_.Managed }))
    $syncManaged = Get-Median ([double[]]@($sync | ForEach-Object { [double]$_.Managed }))
    $wsRatio = if ($hashWs -gt 0) { $syncWs / $hashWs } else { [double]::NaN }

    Write-Report '| growth after GC (MiB, median) | SyncTable | hashtable | SyncTable / hashtable |'
    Write-Report '|---|---|---|---|'
    Write-Report "| process working set | $(Format-Number ($syncWs / $mb) 'N1') | $(Format-Number ($hashWs / $mb) 'N1') | $(Format-Number $wsRatio 'N3') |"
    Write-Report "| process private bytes | $(Format-Number ($syncPrivate / $mb) 'N1') | $(Format-Number ($hashPrivate / $mb) 'N1') | $(Format-Number $(if ($hashPrivate -gt 0) { $syncPrivate / $hashPrivate } else { [double]::NaN }) 'N3') |"
    Write-Report "| GC.GetTotalMemory (managed only) | $(Format-Number ($syncManaged / $mb) 'N1') | $(Format-Number ($hashManaged / $mb) 'N1') | $(Format-Number $(if ($hashManaged -gt 0) { $syncManaged / $hashManaged } else { [double]::NaN }) 'N3') |"
    Write-Report ''
    Write-Report "Per child, working set growth MiB: SyncTable $((@($sync | ForEach-Object { Format-Number ($_.WorkingSet / $mb) 'N1' })) -join ' / '); hashtable $((@($hash | ForEach-Object { Format-Number ($_.WorkingSet / $mb) 'N1' })) -join ' / ')."
    Write-Report ''
    Write-Report '| ratio | value | target | verdict |'
    Write-Report '|---|---|---|---|'
    Write-Report "| working set growth SyncTable / hashtable | $(Format-Number $wsRatio 'N3') | <= 1.0 | $(Get-Verdict $wsRatio 1.0 'AtMost') |"
    Write-Report ''
}

# ---- run ----------------------------------------------------------------------------------

Write-Report '# SyncTable vs [hashtable]::Synchronized (PowerShell level)'
Write-Report ''
Write-EnvironmentReport
Write-Report "- sizes: GetSetOps=$GetSetOps, KeyCount=$KeyCount, Runspaces=$Runspaces, IncrementsPerRunspace=$IncrementsPerRunspace, MemoryEntries=$MemoryEntries, MemoryRuns=$MemoryRuns, Runs=$Runs"
Write-Report '- Every ratio compares measurements taken in this same run; absolute numbers depend on the machine.'
Write-Report ''

$scriptWatch = [System.Diagnostics.Stopwatch]::StartNew()
try {
    Invoke-GetSetBench
    Invoke-ContentionBench
    Invoke-MemoryBench
}
catch {
    Write-Host $_.ScriptStackTrace
    Add-Failure "The benchmark stopped: $($_.Exception.Message)"
}
finally {
    $scriptWatch.Stop()
    Write-Report "Total time: $(Format-Number $scriptWatch.Elapsed.TotalSeconds 'N1') s."
    if ($script:Failures.Count -gt 0) {
        Write-Report ''
        Write-Report "**$($script:Failures.Count) failure(s)**: $($script:Failures -join ' ')"
    }
    Save-Report -Name 'table'
}

if ($script:Failures.Count -gt 0) { exit 1 }
exit 0
