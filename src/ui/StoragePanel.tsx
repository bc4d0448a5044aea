import { Box, Text } from "ink";
import { type ClusterStatus, lockSecondsLeft } from "../core/cluster-status.js";
import { clip } from "./clip.js";

function lockLine(status: ClusterStatus): string {
  const lock = status.dynamodb.lock;
  if (!lock) return "HA lock: no lock item";
  const left = lockSecondsLeft(status) ?? 0;
  // The item names no node; the active node is the one renewing it.
  const holder = status.active ? `held by ${status.active}` : "not renewed (no active node)";
  const freshness =
    left > 0 ? `expires in ${left} s` : left === 0 ? "expires now" : `expired ${-left} s ago`;
  return `HA lock ${lock.identity.slice(0, 8)}… ${holder}, ${freshness}`;
}

/** DynamoDB Local's health and table, and Vault's HA lock item read from the table. */
export function StoragePanel(props: {
  readonly status: ClusterStatus;
  readonly color: boolean;
  readonly width: number;
}) {
  const { dynamodb } = props.status;
  const table = `table ${dynamodb.table} ${dynamodb.tableStatus ?? "-"}, ${dynamodb.itemCount ?? "?"} items`;
  return (
    <Box flexDirection="column">
      <Text
        color={props.color ? (dynamodb.healthy ? "green" : "red") : undefined}
        bold={!dynamodb.healthy}
      >
        {clip(
          `DynamoDB ${dynamodb.endpoint ?? "-"}  ${dynamodb.healthy ? "healthy" : `NOT HEALTHY (${dynamodb.container})`}  ${table}`,
          props.width,
        )}
      </Text>
      {dynamodb.error ? (
        <Text color={props.color ? "red" : undefined}>
          {clip(`table not readable: ${dynamodb.error}`, props.width)}
        </Text>
      ) : null}
      <Text>{clip(lockLine(props.status), props.width)}</Text>
      {props.status.loadBalancer ? (
        <Text
          color={
            props.color ? (props.status.loadBalancer.reachesActive ? "green" : "red") : undefined
          }
        >
          {clip(
            `Balancer ${props.status.loadBalancer.url ?? "-"}  ${props.status.loadBalancer.reachesActive ? "reaches the active node" : "reaches no active node"}`,
            props.width,
          )}
        </Text>
      ) : null}
    </Box>
  );
}
