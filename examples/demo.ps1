# SyncPool demo: the seed "ping many hosts with a runspace pool" template as
# one pipeline, plus a shared table that counts without losing updates.
# Run with: ./build.ps1 -Task Demo   (imports the freshly built module first)

$ErrorActionPreference = 'Stop'
if (-not (Get-Module SyncPool)) { Import-Module SyncPool }

Write-Host "== A SyncTable shared by many runspaces"
$stats = New-SyncTable
$naive = [hashtable]::Synchronized(@{ hits = 0 })
1..2000 | ForEach-Object -Parallel {
    [void]($using:stats).Increment('hits')
    ($using:naive).hits++
} -ThrottleLimit 8
"SyncTable.Increment: $($stats.hits) of 2000;  synchronized hashtable `$h.hits++: $($naive.hits) of 2000"

Write-Host "`n== Start-ParallelTask: work items with a per-task timeout"
$items = 1..12
$results = $items | Start-ParallelTask {
    param($n)
    ($using:stats).Increment('tasks') | Out-Null
    Start-Sleep -Milliseconds (50 * ($n % 4))
    "item $n squared is $($n * $n)"
} -ThrottleLimit 4 -TimeoutSeconds 10 | Wait-ParallelTask -Receive -AsHashtable
$results.GetEnumerator() | Sort-Object Name | Select-Object -First 5 | Format-Table -AutoSize
"tasks that ran: $($stats.tasks)"

Write-Host "`n== A stuck task is timed out instead of hanging the script"
$stuck = Start-ParallelTask { [Threading.Thread]::Sleep(600000) } -TimeoutSeconds 1
$sw = [Diagnostics.Stopwatch]::StartNew()
$stuck | Wait-ParallelTask | Format-Table Id, State, StatusMessage -AutoSize
'caller got control back after {0:N1} s' -f $sw.Elapsed.TotalSeconds

Write-Host "`n== Waiting for another runspace's result without polling"
$t = New-SyncTable
$producer = Start-ParallelTask { Start-Sleep -Milliseconds 300; ($using:t).Answer = 42 }
"answer: $(Wait-SyncTable -Table $t -Key Answer -Timeout 10 -PassThru)"
$producer | Wait-ParallelTask | Remove-ParallelTask
