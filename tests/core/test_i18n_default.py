"""The interface is Chinese by default and English on request."""


def test_login_page_is_chinese_by_default(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="zh-CN"' in page
    assert "登录" in page and "手机号" in page


def test_validation_messages_are_translated(client):
    page = client.post("/login", data={"phone": "", "password": ""}).get_data(as_text=True)
    assert "此项为必填。" in page


def test_english_switch(client):
    client.post("/lang/en")
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="en"' in page and "Mobile number" in page
