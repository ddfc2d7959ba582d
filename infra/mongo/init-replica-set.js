// Run once by the `mongo-init` service (mongosh --host mongo1): initiate the replica set rs0 of
// mongo1..mongo3 and wait until it has a primary, so services never start against a set that
// cannot take writes. Re-running it (every `docker compose up`) finds rs0 initiated and only waits.
const members = [
  { _id: 0, host: "mongo1:27017", priority: 2 },
  { _id: 1, host: "mongo2:27017", priority: 1 },
  { _id: 2, host: "mongo3:27017", priority: 1 },
];

try {
  rs.status();
  print("replica set rs0 is already initiated");
} catch (err) {
  if (err.codeName !== "NotYetInitialized") {
    throw err;
  }
  rs.initiate({ _id: "rs0", members: members });
  print("replica set rs0 initiated with " + members.length + " members");
}

const deadline = Date.now() + 120 * 1000;
for (;;) {
  let primary = null;
  try {
    primary = rs.status().members.find((m) => m.stateStr === "PRIMARY");
  } catch (err) {
    // an election in progress can refuse replSetGetStatus briefly: ask again
  }
  if (primary) {
    print("replica set rs0 primary: " + primary.name);
    break;
  }
  if (Date.now() > deadline) {
    print("replica set rs0 has no primary after 120 s");
    quit(1);
  }
  sleep(1000);
}
