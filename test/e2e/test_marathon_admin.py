"""Marathon's smaller endpoints: abdication (DELETE /v2/leader), plugins, PATCH of a group's
enforceRole — as Marathon 1.10's LeaderResource, PluginsResource and GroupsResource answer them."""
from conftest import wait_for


def leader_of(m):
    return m.get("/v2/leader", timeout=2).json()["leader"]


def test_abdicate_hands_leadership_to_another_master(cluster):
    old = cluster.leader()
    addr = f"127.0.0.1:{old.http_port}"
    wait_for(lambda: all(leader_of(m) == addr for m in cluster.masters), timeout=10, what="everyone knows the leader")
    r = old.post("/v2/apps", json={"id": "/kept", "cmd": "sleep 100", "instances": 0})
    assert r.status_code == 201, r.text
    # asked through a follower: forwarded to the leader, like every write
    follower = next(m for m in cluster.masters if m is not old)
    r = follower.delete("/v2/leader")
    assert r.status_code == 200, r.text
    assert r.json() == {"message": "Leadership abdicated"}
    new = cluster.leader()
    assert new is not old and old.alive()
    new_addr = f"127.0.0.1:{new.http_port}"
    wait_for(lambda: all(leader_of(m) == new_addr for m in cluster.masters), timeout=10, what="new leader known")
    # the state went with it, and the old leader serves as a follower
    assert old.get("/v2/apps/kept").json()["app"]["id"] == "/kept"
    assert old.get("/v2/info").json()["elected"] is False
    # it can be done again: leadership moves on, never to nobody
    r = new.delete("/v2/leader")
    assert r.status_code == 200, r.text
    assert cluster.leader() is not new


def test_a_cluster_of_one_cannot_abdicate(master):
    r = master.delete("/v2/leader")
    assert r.status_code == 503 and "not abdicated" in r.json()["message"], r.text
    assert master.get("/v2/info").json()["elected"] is True
    r = master.delete("/v2/leader", params={"backup": "file:///tmp/x"})
    assert r.status_code == 400 and "backup" in r.json()["message"]


def test_plugins_list_is_empty_and_unknown_plugins_are_404(master):
    r = master.get("/v2/plugins")
    assert r.status_code == 200 and r.json() == {"plugins": []}
    for method in ("GET", "PUT", "POST", "DELETE"):
        r = master.request(method, "/v2/plugins/webjar/some/path")
        assert r.status_code == 404 and r.json() == {"message": "No plugin with this pluginId: webjar"}, r.text


def test_patch_sets_and_clears_a_top_level_groups_enforce_role(master):
    r = master.put("/v2/groups/team", json={"groups": [{"id": "sub", "apps": [{"id": "web", "cmd": "sleep 100",
                                                                              "instances": 0}]}]})
    assert r.status_code == 200, r.text
    assert "enforceRole" not in master.get("/v2/groups/team").json() or \
        master.get("/v2/groups/team").json()["enforceRole"] is False
    r = master.patch("/v2/groups//team", json={"enforceRole": True})
    assert r.status_code == 200 and r.text == "", r.text
    g = master.get("/v2/groups/team", params={"embed": ["group.groups", "group.apps"]}).json()
    assert g["enforceRole"] is True
    assert [a["id"] for a in g["groups"][0]["apps"]] == ["/team/sub/web"]  # the subtree is untouched
    # absent (or null) means the default, off
    r = master.patch("/v2/groups/team", json={"enforceRole": None})
    assert r.status_code == 200, r.text
    assert master.get("/v2/groups/team").json()["enforceRole"] is False
    # only top-level groups, only existing ones, only booleans
    r = master.patch("/v2/groups/team/sub", json={"enforceRole": True})
    assert r.status_code == 422 and r.json()["details"] == [{"path": "/", "errors": ["Path needs to be top-level"]}]
    r = master.patch("/v2/groups/nope", json={"enforceRole": True})
    assert r.status_code == 404 and r.json()["message"] == "Group '/nope' does not exist"
    r = master.patch("/v2/groups/team", json={"enforceRole": "yes"})
    assert r.status_code == 422 and r.json()["details"][0]["path"] == "/enforceRole"
    r = master.patch("/v2/groups", json={"enforceRole": True})
    assert r.status_code == 405
